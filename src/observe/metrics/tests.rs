use super::*;

/// The metric families in the output: `(name, type)` from `# TYPE` lines.
fn families(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

/// Metrics with one of everything recorded.
fn recorded() -> Metrics {
    let m = Metrics::new();
    m.article_consumed();
    m.article_consumed();
    m.article_invalid("json");
    m.article_dead_lettered();
    m.rule_matched("minsk-group");
    m.rule_alert("minsk-group", "suppressed", "chat_paused");
    m.alert_sent("telegram", Some(Duration::from_millis(300)));
    m.alert_retried("email");
    m.alert_failed("email", "permanent");
    m.alert_suppressed("telegram", "duplicate");
    m.rules_reloaded(Some(7));
    m.rules_reloaded(None);
    m.consumer_backlog("newsalert", 12, 3);
    m.telegram_rate_limited();
    m
}

#[test]
fn recorded_values_are_rendered_in_the_prometheus_text_format() {
    let text = recorded().encode();
    let expected = [
        "newsalert_articles_consumed_total 2",
        "newsalert_articles_invalid_total{kind=\"json\"} 1",
        "newsalert_articles_dead_lettered_total 1",
        "newsalert_rule_matches_total{rule=\"minsk-group\"} 1",
        "newsalert_rule_alerts_total{rule=\"minsk-group\",outcome=\"suppressed\",reason=\"chat_paused\"} 1",
        "newsalert_alerts_sent_total{channel=\"telegram\"} 1",
        "newsalert_alerts_retried_total{channel=\"email\"} 1",
        "newsalert_alerts_failed_total{channel=\"email\",reason=\"permanent\"} 1",
        "newsalert_alerts_suppressed_total{channel=\"telegram\",reason=\"duplicate\"} 1",
        "newsalert_delivery_latency_seconds_bucket{channel=\"telegram\",le=\"0.25\"} 0",
        "newsalert_delivery_latency_seconds_bucket{channel=\"telegram\",le=\"0.5\"} 1",
        "newsalert_delivery_latency_seconds_count{channel=\"telegram\"} 1",
        "newsalert_rule_reloads_total{outcome=\"ok\"} 1",
        "newsalert_rule_reloads_total{outcome=\"rejected\"} 1",
        "newsalert_rules 7",
        "newsalert_consumer_pending_messages{consumer=\"newsalert\"} 12",
        "newsalert_consumer_ack_pending_messages{consumer=\"newsalert\"} 3",
        "newsalert_telegram_429_total 1",
        &format!(
            "newsalert_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
    ];
    for line in expected {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
}

#[test]
fn channels_and_reload_outcomes_start_at_zero() {
    let text = Metrics::new().encode();
    for line in [
        "newsalert_alerts_sent_total{channel=\"telegram\"} 0",
        "newsalert_alerts_sent_total{channel=\"email\"} 0",
        "newsalert_alerts_retried_total{channel=\"email\"} 0",
        "newsalert_delivery_latency_seconds_count{channel=\"email\"} 0",
        "newsalert_rule_reloads_total{outcome=\"rejected\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
}

/// Prometheus conventions: one prefix, counters end in `_total`, the
/// latency histogram in `_seconds`; and the README documents every name.
#[test]
fn names_follow_the_conventions_and_are_documented() {
    let text = recorded().encode();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let families = families(&text);
    assert_eq!(families.len(), 16, "{families:?}");
    for (name, kind) in &families {
        assert!(name.starts_with("newsalert_"), "{name}");
        match kind.as_str() {
            "counter" => assert!(name.ends_with("_total"), "{name}"),
            "histogram" => assert!(name.ends_with("_seconds"), "{name}"),
            _ => assert!(!name.ends_with("_total"), "{name}"),
        }
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in the README's metrics table"
        );
    }
}
