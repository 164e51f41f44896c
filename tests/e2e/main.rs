//! End-to-end tests: a real nats-server, a fake Telegram Bot API and a real
//! SMTP server, all on loopback and started per test; the service under
//! test is built with `App::build` exactly as `main` does.

#[path = "../support/mod.rs"]
mod support;

mod alert_key;
mod backtest;
mod binary;
mod blackbox_digest;
mod bot;
mod chaos;
mod cli;
mod cloudevents;
mod delivery;
mod deploy;
mod digest;
mod email_batch;
mod explain;
mod feeds;
mod flood;
mod ledger;
mod link_preview;
mod logs;
mod mail;
mod match_stream;
mod observe;
mod ops;
mod ordered_consumer;
mod pipeline;
mod reload;
mod rule_stats;
mod scale;
mod security;
mod service;
mod smtp_client;
mod story;

use newsalert::app::App;
use newsalert::retry::RetryPolicy;
use newsalert::settings::Settings;
use std::path::Path;
use std::time::Duration;
use support::nats::NatsServer;
use support::smtp::SmtpSink;
use support::telegram::FakeTelegram;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const TOKEN: &str = "123456:TEST-token";

/// Rules used by most tests: one subscriber on both channels.
pub const RULES: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = -1001
email = "desk@example.org"

[[subscriber]]
id = "analyst"
telegram_chat_id = 42

[[rule]]
id = "minsk-group"
query = '"Minsk Group" OR (Azerbaijan AND Armenia AND talks)'
notify = ["desk", "analyst"]

[[rule]]
id = "azerbaijan"
query = 'Azerbaijan OR Baku'
notify = ["desk"]
"#;

/// A running service wired to the test's servers.
pub struct TestApp {
    pub dir: tempfile::TempDir,
    /// The HTTP endpoint (`http.listen = "127.0.0.1:0"` in [`config_dir`]).
    pub http: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl TestApp {
    /// End the service abruptly, as a crash would: nothing is finished or
    /// released (the bot's lease is left to expire).
    pub fn kill(mut self) {
        // A dropped sender would be read as a shutdown signal.
        std::mem::forget(self.stop.take());
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }

    /// Stop the service and wait for it to finish in-flight work.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("service stops within 10 s")
                .expect("service task");
        }
    }
}

/// Write a config dir pointing at the given servers.
pub fn config_dir(
    nats: &NatsServer,
    telegram: Option<&FakeTelegram>,
    smtp: Option<&SmtpSink>,
    rules: &str,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut local = format!(
        "[nats]\nurl = \"{}\"\nack_wait_secs = 5\n\n[rules]\nwatch = false\n\n[log]\nfilter = \"warn\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n\n[story]\nenabled = false\n\n[bot]\nenabled = false\n\n[digest]\nenabled = false\n",
        nats.url()
    );
    if let Some(t) = telegram {
        local.push_str(&format!(
            "\n[telegram]\nbot_token = \"{TOKEN}\"\napi_url = \"{}\"\n",
            t.api_url()
        ));
    }
    if let Some(s) = smtp {
        local.push_str(&format!(
            "\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"newsalert <alerts@example.net>\"\ntimeout_secs = 5\n",
            s.port()
        ));
    }
    std::fs::write(dir.path().join("local.toml"), local).unwrap();
    std::fs::write(dir.path().join("rules.toml"), rules).unwrap();
    dir
}

/// Turn a feature that [`config_dir`] leaves off (`story`, `bot`) on in
/// `dir`, with `extra` keys of that section (`"lease_ttl_secs = 3\n"`).
pub fn enable(dir: &tempfile::TempDir, section: &str, extra: &str) {
    let path = dir.path().join("local.toml");
    let local = std::fs::read_to_string(&path).unwrap();
    let off = format!("[{section}]\nenabled = false\n");
    assert!(local.contains(&off), "{section} is not in local.toml");
    let on = format!("[{section}]\nenabled = true\n{extra}");
    std::fs::write(path, local.replace(&off, &on)).unwrap();
}

/// Build and start the service on `dir`.
pub async fn spawn_app(dir: tempfile::TempDir) -> TestApp {
    spawn_app_with_clock(dir, std::sync::Arc::new(newsalert::clock::SystemClock)).await
}

/// Build and start the service on `dir`, telling time by `clock`.
pub async fn spawn_app_with_clock(
    dir: tempfile::TempDir,
    clock: newsalert::clock::SharedClock,
) -> TestApp {
    init_tracing();
    let settings = Settings::load_with_env(dir.path(), Vec::new()).expect("settings");
    let app = App::build(settings)
        .await
        .expect("app builds")
        .with_clock(clock)
        .with_retry_policy(RetryPolicy {
            max_attempts: 4,
            initial: Duration::from_millis(50),
            max: Duration::from_millis(500),
            ..RetryPolicy::default()
        });
    let http = app.http_addr().expect("http.listen is set");
    let (tx, rx) = oneshot::channel();
    let handle = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = rx.await;
        })
        .await
        .expect("run");
    });
    TestApp {
        dir,
        http,
        stop: Some(tx),
        handle: Some(handle),
    }
}

/// Publish one raw event with a dedup id and wait for the JetStream ack.
pub async fn publish(nats: &NatsServer, subject: &str, msg_id: &str, payload: &str) {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg_id);
    js.publish_with_headers(subject.to_string(), headers, payload.to_string().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Run the binary on config directory `dir` with `args`.
pub fn cli(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_newsalert"))
        .arg("--config")
        .arg(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run newsalert")
}

/// The JSON lines a successful command printed.
pub fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub fn repo_path(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Logs from the service under test, when RUST_LOG is set.
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    }
}
