//! The `newsalert` binary as a black box: `run` as a child process,
//! reloaded with SIGHUP, stopped with SIGTERM, and its logs checked for
//! secrets.

use crate::service::Service;
use crate::support::nats::NatsServer;
use crate::support::telegram::FakeTelegram;
use crate::support::{free_port, wait_until};
use crate::{RULES, config_dir, publish};
use std::process::Command;
use std::time::Duration;

fn article(id: &str, title: &str) -> String {
    serde_json::json!({"id": id, "title": title, "body": title, "language": "en"}).to_string()
}

#[tokio::test]
async fn sighup_reloads_the_rules_and_sigterm_stops_the_binary() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    // watch = false: only SIGHUP reloads.
    let dir = config_dir(&nats, Some(&telegram), None, RULES);
    let rules = dir.path().join("rules.toml");
    let mut service = Service::start(dir.path(), [("NEWSALERT__LOG__FILTER", "info")]);
    assert!(
        wait_until(Duration::from_secs(10), || service.count("consuming") > 0).await,
        "service did not start: {}",
        service.log()
    );

    let added = format!(
        "{RULES}\n[[subscriber]]\nid = \"energy\"\ntelegram_chat_id = 77\n\n\
         [[rule]]\nid = \"pipeline\"\nquery = 'pipeline'\nnotify = [\"energy\"]\n"
    );
    std::fs::write(&rules, &added).unwrap();
    service.signal("HUP");
    assert!(
        wait_until(Duration::from_secs(10), || service.count("rules reloaded")
            == 1)
        .await,
        "no reload: {}",
        service.log()
    );
    publish(
        &nats,
        "news.articles.t",
        "p-1",
        &article("p-1", "Gas pipeline"),
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || telegram.sent_to(77).len() == 1).await,
        "new rule did not alert: {:?}\n{}",
        telegram.sent(),
        service.log()
    );

    // A broken file: every error logged, the rules in force keep running.
    std::fs::write(&rules, added.replace("'pipeline'", "'pipeline AND'")).unwrap();
    service.signal("HUP");
    assert!(
        wait_until(Duration::from_secs(10), || service
            .count("keeping the previous rules")
            == 1)
        .await,
        "no rejection: {}",
        service.log()
    );
    let file = rules.display().to_string();
    assert!(
        service
            .log()
            .contains(&format!("{file}:27:19: rule \"pipeline\"")),
        "{}",
        service.log()
    );
    publish(
        &nats,
        "news.articles.t",
        "p-2",
        &article("p-2", "Pipeline again"),
    )
    .await;
    publish(&nats, "news.articles.t", "b-1", &article("b-1", "Baku")).await;
    assert!(
        wait_until(Duration::from_secs(10), || telegram.sent_to(77).len() == 2
            && telegram.sent_to(-1001).len() == 1)
        .await,
        "{:?}\n{}",
        telegram.sent(),
        service.log()
    );

    service.signal("TERM");
    let status = service.exit_within(Duration::from_secs(10)).await;
    assert_eq!(status.map(|s| s.code()), Some(Some(0)), "{}", service.log());
}

/// Secrets set in the tests below: none may appear in any output.
const SECRETS: [&str; 5] = [
    "secret-token-123",
    "hunter2",
    "nats-pass-789",
    "nats-token-246",
    NKEY_SEED,
];

/// A valid user nkey seed (no server knows its public key).
const NKEY_SEED: &str = "SUABPZS6DZLSWZ7LWTUA5MRTBNHZCO7A6DTVCBKMTXZRFJWZ3GV2QKFM7A";

fn assert_no_secrets(output: &str) {
    for secret in SECRETS {
        assert!(!output.contains(secret), "{secret} leaked:\n{output}");
    }
}

/// Secrets in the environment, every service pointed at a closed port.
fn secret_env(nats_url: &str, telegram_port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("NEWSALERT__NATS__URL", nats_url.to_string()),
        ("NEWSALERT__NATS__USER", "newsalert".into()),
        ("NEWSALERT__NATS__PASSWORD", "nats-pass-789".into()),
        ("NEWSALERT__TELEGRAM__BOT_TOKEN", "secret-token-123".into()),
        (
            "NEWSALERT__TELEGRAM__API_URL",
            format!("http://127.0.0.1:{telegram_port}/"),
        ),
        ("NEWSALERT__SMTP__HOST", "127.0.0.1".into()),
        ("NEWSALERT__SMTP__PORT", free_port().to_string()),
        ("NEWSALERT__SMTP__TLS", "none".into()),
        ("NEWSALERT__SMTP__USERNAME", "mailer".into()),
        ("NEWSALERT__SMTP__PASSWORD", "hunter2".into()),
        ("NEWSALERT__NATS__CONNECT_TIMEOUT_SECS", "1".into()),
    ]
}

/// `check` and `run` (NATS unreachable, so `run` gives up after 1 s) with
/// each NATS auth method in turn: user + password, token, nkey seed.
#[tokio::test]
async fn logs_never_show_secrets_when_nats_is_unreachable() {
    assert!(nkeys::KeyPair::from_seed(NKEY_SEED).is_ok(), "a real seed");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.toml"), RULES).unwrap();
    let base = secret_env(&format!("nats://127.0.0.1:{}", free_port()), free_port());
    let without_nats_auth = || {
        base.iter()
            .filter(|(k, _)| !k.ends_with("NATS__USER") && !k.ends_with("NATS__PASSWORD"))
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>()
    };
    let mut token = without_nats_auth();
    token.push(("NEWSALERT__NATS__TOKEN", "nats-token-246".into()));
    let mut nkey = without_nats_auth();
    nkey.push(("NEWSALERT__NATS__NKEY_SEED", NKEY_SEED.into()));
    for env in [base.clone(), token, nkey] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let check = Command::new(env!("CARGO_BIN_EXE_newsalert"))
            .args(["check", "--config"])
            .arg(dir.path())
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(check.status.success(), "{check:?}");
        assert_no_secrets(&String::from_utf8_lossy(&check.stdout));
        assert_no_secrets(&String::from_utf8_lossy(&check.stderr));

        let mut env = env;
        env.push(("NEWSALERT__LOG__FILTER", "trace"));
        let mut service = Service::start(dir.path(), env.iter().copied());
        let status = service.exit_within(Duration::from_secs(20)).await;
        assert_eq!(status.and_then(|s| s.code()), Some(1), "{}", service.log());
        let stderr = service.log();
        assert!(stderr.contains("error"), "{stderr}");
        assert_no_secrets(&stderr);
    }
}

#[tokio::test]
async fn logs_never_show_secrets_when_deliveries_fail() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.toml"), RULES).unwrap();
    // The test server has no users: connect without the NATS password.
    let env = secret_env(&nats.url(), free_port());
    let mut env: Vec<(&str, &str)> = env
        .iter()
        .filter(|(k, _)| !k.starts_with("NEWSALERT__NATS__USER") && !k.ends_with("NATS__PASSWORD"))
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    env.push(("NEWSALERT__LOG__FILTER", "debug"));
    let mut service = Service::start(dir.path(), env.iter().copied());
    assert!(
        wait_until(Duration::from_secs(10), || service.count("consuming") > 0).await,
        "{}",
        service.log()
    );
    publish(&nats, "news.articles.t", "b-1", &article("b-1", "Baku")).await;
    // Telegram (connection refused) is retried; email fails to connect.
    assert!(
        wait_until(Duration::from_secs(20), || {
            let s = service.log();
            s.contains("telegram") && s.contains("retrying") && s.contains("email")
        })
        .await,
        "{}",
        service.log()
    );
    service.signal("TERM");
    let status = service.exit_within(Duration::from_secs(10)).await;
    assert!(status.is_some(), "{}", service.log());
    assert_no_secrets(&service.log());
}
