//! `telegram.link_preview`: what each setting sends as
//! `link_preview_options`, as the fake Bot API received it.

use crate::support::nats::NatsServer;
use crate::support::telegram::FakeTelegram;
use crate::{RULES, config_dir, publish, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn link_previews_follow_the_setting() {
    let cases = [
        (None, Some(json!({"is_disabled": true}))),
        (Some("off"), Some(json!({"is_disabled": true}))),
        (Some("on"), None),
        (Some("above"), Some(json!({"show_above_text": true}))),
        (Some("below"), Some(json!({}))),
    ];
    let nats = NatsServer::start();
    for (i, (setting, want)) in cases.into_iter().enumerate() {
        let telegram = FakeTelegram::start().await;
        let dir = config_dir(&nats, Some(&telegram), None, RULES);
        if let Some(setting) = setting {
            let local = dir.path().join("local.toml");
            let mut text = std::fs::read_to_string(&local).unwrap();
            text.push_str(&format!("link_preview = {setting:?}\n"));
            std::fs::write(&local, text).unwrap();
        }
        let app = spawn_app(dir).await;
        let article = json!({"id": format!("lp-{i}"), "title": "Baku talks", "url": "https://news.example.org/a"});
        publish(
            &nats,
            "news.articles.test",
            &format!("lp-{i}"),
            &article.to_string(),
        )
        .await;
        let sent = telegram.wait_for(1, Duration::from_secs(15)).await;
        let options = sent[0].body.get("link_preview_options").cloned();
        // teloxide leaves out fields at their default (false).
        assert_eq!(
            options,
            want.map(|w: Value| w),
            "{setting:?}: {:#}",
            sent[0].body
        );
        app.stop().await;
    }
}
