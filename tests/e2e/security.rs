//! NATS security against real servers configured for it: user/password,
//! token, nkey (seed and file), a `.creds` file (operator / account / user
//! JWTs), TLS with a private CA and client certificates, and
//! `tls_required`. Each accepted setup makes `/readyz` 200; each refusal
//! (wrong secret, unknown key, untrusted or missing certificate, no TLS)
//! keeps `/readyz` 503 with the reason while the service keeps trying, and
//! the binary logs the refusal once instead of exiting.

use crate::RULES;
use crate::service::Service;
use crate::support::http::get;
use crate::support::nats::NatsServer;
use crate::support::nats_auth::{NkeyUser, Operator, Pki};
use crate::support::wait_until;
use newsalert::app::App;
use newsalert::settings::Settings;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A config dir for a server at `url` with `nats` lines added to `[nats]`.
fn secure_dir(url: &str, nats: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let local = format!(
        "[nats]\nurl = \"{url}\"\nack_wait_secs = 5\n{nats}\n\n[rules]\nwatch = false\n\n\
         [log]\nfilter = \"warn\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n"
    );
    std::fs::write(dir.path().join("local.toml"), local).unwrap();
    std::fs::write(dir.path().join("rules.toml"), RULES).unwrap();
    dir
}

fn toml_path(p: &std::path::Path) -> String {
    format!("{:?}", p.display().to_string())
}

/// One server setup and the client settings to try against it.
struct Case {
    name: &'static str,
    server: String,
    client: String,
    /// Expected in `/readyz`'s body when refused; `None`: accepted.
    refusal: Option<&'static str>,
}

/// Start the server and an instance for `case`; return the endpoint's
/// status and body once it settles (200, or 503 naming the refusal).
async fn try_case(case: &Case) -> (u16, String) {
    let nats = NatsServer::start_with_config(&case.server);
    let dir = secure_dir(&nats.url(), &case.client);
    let settings = Settings::load_with_env(dir.path(), Vec::new()).unwrap();
    let starting = App::start(settings).await.expect("settings and rules");
    let addr = starting.http_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(async move {
        let app = starting.connect().await.expect("connects");
        app.run_until_stopped(async {
            let _ = stop_rx.await;
        })
        .await
        .unwrap();
    });
    let want = |status: u16, body: &str| match case.refusal {
        None => status == 200,
        Some(reason) => status == 503 && body.contains(reason),
    };
    let (status, body) = poll_readyz(addr, Duration::from_secs(20), want).await;
    if case.refusal.is_some() {
        // Still refused, still up, still trying a while later.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!service.is_finished(), "{}: the service ended", case.name);
        let again = get(addr, "/readyz").await.unwrap();
        assert_eq!(again.status, 503, "{}: {}", case.name, again.body);
        service.abort();
    } else {
        let _ = stop_tx.send(());
        tokio::time::timeout(Duration::from_secs(10), service)
            .await
            .expect("stops")
            .unwrap();
    }
    drop(dir);
    (status, body)
}

/// `/readyz` until `want(status, body)` or `timeout`; the last answer.
async fn poll_readyz(
    addr: SocketAddr,
    timeout: Duration,
    want: impl Fn(u16, &str) -> bool,
) -> (u16, String) {
    let deadline = Instant::now() + timeout;
    loop {
        let r = get(addr, "/readyz").await.unwrap();
        if want(r.status, &r.body) || Instant::now() >= deadline {
            return (r.status, r.body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_auth_method_and_tls_setup_is_accepted_or_refused_clearly() {
    let files = tempfile::tempdir().unwrap();
    let pki = Pki::generate(files.path(), "good");
    let other = Pki::generate(files.path(), "other");
    let nkey = NkeyUser::generate();
    let stranger = NkeyUser::generate();
    let nkey_file = files.path().join("user.nk");
    std::fs::write(&nkey_file, format!("{}\n", nkey.seed)).unwrap();
    let operator = Operator::generate(files.path());
    let users = "authorization {\n  user: newsalert\n  password: \"s3cret-pw\"\n}\n";
    let token = "authorization {\n  token: \"s3cret-token\"\n}\n";
    let client_tls = format!(
        "tls_required = true\ntls_ca_file = {}\ntls_cert_file = {}\ntls_key_file = {}\n",
        toml_path(&pki.ca),
        toml_path(&pki.client_cert),
        toml_path(&pki.client_key)
    );
    let refused = Some("NATS refused the credentials");
    let tls_failed = Some("TLS with NATS failed");
    let cases = [
        Case {
            name: "user and password",
            server: users.into(),
            client: "user = \"newsalert\"\npassword = \"s3cret-pw\"".into(),
            refusal: None,
        },
        Case {
            name: "wrong password",
            server: users.into(),
            client: "user = \"newsalert\"\npassword = \"wrong\"".into(),
            refusal: refused,
        },
        Case {
            name: "token",
            server: token.into(),
            client: "token = \"s3cret-token\"".into(),
            refusal: None,
        },
        Case {
            name: "wrong token",
            server: token.into(),
            client: "token = \"wrong\"".into(),
            refusal: refused,
        },
        Case {
            name: "nkey seed",
            server: nkey.server_config(),
            client: format!("nkey_seed = {:?}", nkey.seed),
            refusal: None,
        },
        Case {
            name: "nkey file",
            server: nkey.server_config(),
            client: format!("nkey_file = {}", toml_path(&nkey_file)),
            refusal: None,
        },
        Case {
            name: "unknown nkey",
            server: nkey.server_config(),
            client: format!("nkey_seed = {:?}", stranger.seed),
            refusal: refused,
        },
        Case {
            name: "creds file",
            server: operator.config.clone(),
            client: format!("creds_file = {}", toml_path(&operator.creds)),
            refusal: None,
        },
        Case {
            name: "TLS with a private CA and a client certificate",
            server: pki.server_config(true),
            client: client_tls.clone(),
            refusal: None,
        },
        Case {
            name: "TLS, server's CA not trusted",
            server: pki.server_config(false),
            client: format!("tls_ca_file = {}", toml_path(&other.ca)),
            refusal: tls_failed,
        },
        Case {
            name: "TLS, no client certificate",
            server: pki.server_config(true),
            client: format!("tls_ca_file = {}", toml_path(&pki.ca)),
            refusal: tls_failed,
        },
        Case {
            name: "tls_required, server without TLS",
            server: String::new(),
            client: "tls_required = true".into(),
            refusal: tls_failed,
        },
    ];
    let results = futures::future::join_all(cases.iter().map(try_case)).await;
    let mut failures = Vec::new();
    for (case, (status, body)) in cases.iter().zip(results) {
        println!("{:<48} {status} {}", case.name, body.replace('\n', " | "));
        let ok = match case.refusal {
            None => status == 200,
            Some(reason) => status == 503 && body.contains(reason),
        };
        if !ok {
            failures.push(format!("{}: {status} {body}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The binary with a wrong password: one clear error, no exit, `/readyz`
/// 503 with the reason, and no secret in the log.
#[tokio::test]
async fn the_binary_reports_a_refusal_once_and_keeps_running() {
    let nats = NatsServer::start_with_config(
        "authorization {\n  user: newsalert\n  password: \"right-pw-123\"\n}\n",
    );
    let dir = secure_dir(&nats.url(), "user = \"newsalert\"");
    let mut service = Service::start(dir.path(), [("NEWSALERT__NATS__PASSWORD", "wrong-pw-456")]);
    let error = "cannot connect to NATS; will keep trying";
    assert!(
        wait_until(Duration::from_secs(10), || service.count(error) == 1).await,
        "{}",
        service.log()
    );
    let log = service.log();
    let addr: SocketAddr = log
        .lines()
        .find(|l| l.contains("http endpoint listening"))
        .and_then(|l| l.split("addr=").nth(1))
        .and_then(|a| a.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no listening address in\n{log}"));
    let ready = get(addr, "/readyz").await.unwrap();
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(
        ready.body.contains("NATS refused the credentials"),
        "{}",
        ready.body
    );
    // Several more attempts (100 ms backoff, growing to 5 s): still one error.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(service.exit_within(Duration::ZERO).await, None, "exited");
    assert_eq!(service.count(error), 1, "{}", service.log());
    assert!(!service.log().contains("wrong-pw-456"));
    assert!(!ready.body.contains("wrong-pw-456"));
}
