//! A real `nats-server` with JetStream on a random loopback port, in a temp
//! directory of its own; killed on `Drop`. [`NatsServer::start_with_config`]
//! adds configuration (authorization, TLS, operator mode; see
//! [`super::nats_auth`]) through a generated config file. Also [`wait_drained`]: the wait
//! before any "nothing more arrives" check.
//!
//! The binary is looked up as: `$NATS_SERVER_BIN`, then
//! `<crate>/.tools/bin/nats-server` (installed by `make tools`), then
//! `nats-server` on `PATH`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The streams the service consumes: articles in, alerts out. Every
/// consumer of these must be drained before "nothing more arrives" holds.
pub const SERVICE_STREAMS: &[&str] = &["ARTICLES", "NEWSALERT_ALERTS"];

/// How long a server may take to accept connections before we give up.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts with a fresh port when the chosen one was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

pub struct NatsServer {
    bin: PathBuf,
    port: u16,
    /// Holds the JetStream store (`jetstream/`) and `nats-server.log`;
    /// both outlive `kill()` so that `restart()` finds them again.
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Extra configuration (authorization, tls, operator, ...) appended to
    /// a generated config file; `None`: command-line options only.
    config: Option<String>,
}

impl NatsServer {
    /// Starts a server with JetStream and waits until it accepts clients.
    ///
    /// # Panics
    /// If no binary is found or the server does not come up in time; the
    /// message includes the server's log.
    pub fn start() -> Self {
        Self::start_inner(None)
    }

    /// Like [`NatsServer::start`], with `config` (nats-server config
    /// syntax: `authorization { ... }`, `tls { ... }`, `operator: ...`)
    /// added to a generated config file that sets the port and store.
    pub fn start_with_config(config: &str) -> Self {
        Self::start_inner(Some(config.to_string()))
    }

    fn start_inner(config: Option<String>) -> Self {
        let bin = nats_server_bin();
        let dir = tempfile::Builder::new()
            .prefix("newsalert-nats-")
            .tempdir()
            .expect("create temp dir for nats-server");
        let mut server = Self {
            bin,
            port: 0,
            dir,
            child: None,
            config,
        };
        for attempt in 1..=PORT_ATTEMPTS {
            server.port = super::free_port();
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(err) if attempt < PORT_ATTEMPTS && err.port_taken => continue,
                Err(err) => server.fail(&err.reason),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory (kept across `restart()`).
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("jetstream")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    /// Everything the server has logged so far (all runs).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGKILLs the server (no graceful shutdown) and reaps it. No-op if it
    /// is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server if it runs, then starts it again on the same port
    /// with the same store directory, and waits until it accepts clients.
    ///
    /// # Panics
    /// If the server does not come back in time.
    pub fn restart(&mut self) {
        self.kill();
        // The old listener may linger briefly; nats-server binds with
        // SO_REUSEADDR, but retry a few times in case the port is busy.
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return,
                Err(err) if err.port_taken && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(err) => self.fail(&err.reason),
            }
        }
    }

    /// The command line: options, or a generated config file.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        match &self.config {
            None => {
                cmd.args([
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-js",
                    "-sd",
                ])
                .arg(self.store_dir());
            }
            Some(extra) => {
                let path = self.dir.path().join("nats-server.conf");
                let conf = format!(
                    "listen: \"127.0.0.1:{}\"\njetstream {{\n  store_dir: {:?}\n}}\n{extra}\n",
                    self.port,
                    self.store_dir().display().to_string()
                );
                std::fs::write(&path, conf).expect("write nats-server.conf");
                cmd.arg("-c").arg(path);
            }
        }
        cmd
    }

    fn spawn_and_wait(&mut self) -> Result<(), StartError> {
        let log = self.open_log();
        let stderr = log.try_clone().expect("clone log file handle");
        let child = self
            .command()
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|err| panic!("spawn {}: {err}", self.bin.display()));
        self.child = Some(child);
        let result = self.wait_ready();
        if result.is_err() {
            self.kill();
        }
        result
    }

    fn open_log(&self) -> File {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open nats-server log file");
        let _ = writeln!(
            log,
            "=== starting {} on port {}",
            self.bin.display(),
            self.port
        );
        log
    }

    /// Ready means: a TCP client gets the server's `INFO` line, and it says
    /// JetStream is on (JetStream is enabled before clients are accepted).
    fn wait_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = self.log();
                let port_taken = log.contains("address already in use");
                return Err(StartError {
                    port_taken,
                    reason: format!("exited early with {status}"),
                });
            }
            if let Some(info) = read_info_line(self.port) {
                if info.contains("\"jetstream\":true") {
                    return Ok(());
                }
                return Err(StartError {
                    port_taken: false,
                    reason: format!("JetStream is not enabled: {info}"),
                });
            }
            if Instant::now() >= deadline {
                return Err(StartError {
                    port_taken: false,
                    reason: format!("did not accept connections within {START_TIMEOUT:?}"),
                });
            }
            std::thread::sleep(super::POLL_INTERVAL);
        }
    }

    fn fail(&mut self, reason: &str) -> ! {
        self.kill();
        panic!(
            "nats-server ({}) on 127.0.0.1:{} {reason}\n--- {} ---\n{}",
            self.bin.display(),
            self.port,
            self.log_path().display(),
            self.log()
        );
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

struct StartError {
    port_taken: bool,
    reason: String,
}

fn read_info_line(port: u16) -> Option<String> {
    let stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.starts_with("INFO ").then_some(line)
}

/// Which `nats-server` binary to run; see the module docs for the order.
///
/// # Panics
/// If none is found, with a hint to run `make tools`.
pub fn nats_server_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("NATS_SERVER_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "NATS_SERVER_BIN={} does not exist",
            bin.display()
        );
        return bin;
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/nats-server");
    if local.is_file() {
        return local;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file());
    on_path.unwrap_or_else(|| {
        panic!(
            "nats-server not found: set NATS_SERVER_BIN, or run `make tools` \
             (scripts/install-nats.sh) to install it into {}",
            local.display()
        )
    })
}

/// Waits until every consumer of each stream in `streams` is drained:
/// nothing left to deliver (`num_pending == 0`) and nothing delivered but
/// not yet acknowledged (`num_ack_pending == 0`; a nak'd message waiting
/// out its delay counts here). The service acknowledges only after the
/// effect (the alert published, the message sent), so once drained nothing
/// more arrives unless something is published: check "no more than n"
/// after this, never after a sleep. Each stream must exist and have at
/// least one consumer (else the service has not started consuming yet).
///
/// # Panics
/// When not drained within `timeout`, with the state of each consumer.
pub async fn wait_drained(
    js: &async_nats::jetstream::Context,
    streams: &[&str],
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let state = consumer_state(js, streams).await;
        if state.iter().all(|(_, drained)| *drained) && !state.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not drained within {timeout:?}: {:#?}",
            state
        );
        tokio::time::sleep(super::POLL_INTERVAL).await;
    }
}

/// `(description, drained)` of every consumer of `streams`; a missing
/// stream or one without consumers is one undrained entry.
async fn consumer_state(
    js: &async_nats::jetstream::Context,
    streams: &[&str],
) -> Vec<(String, bool)> {
    use futures::TryStreamExt;
    let mut out = Vec::new();
    for &name in streams {
        let Ok(stream) = js.get_stream(name).await else {
            out.push((format!("{name}: no such stream"), false));
            continue;
        };
        let infos: Result<Vec<_>, _> = stream.consumers().try_collect().await;
        match infos {
            Ok(infos) if !infos.is_empty() => {
                out.extend(infos.into_iter().map(|i| {
                    let drained = i.num_pending == 0 && i.num_ack_pending == 0;
                    let what = format!(
                        "{name}/{}: pending {}, ack pending {}",
                        i.name, i.num_pending, i.num_ack_pending
                    );
                    (what, drained)
                }));
            }
            Ok(_) => out.push((format!("{name}: no consumers"), false)),
            Err(e) => out.push((format!("{name}: {e}"), false)),
        }
    }
    out
}
