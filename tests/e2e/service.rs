//! `newsalert run --config DIR` (or another command) as a child process,
//! for black-box tests:
//! its log (stderr of every run) is appended to `DIR/service.log`; it can
//! be signalled, SIGKILLed and awaited; it is killed on drop.

use crate::support::wait_until;
use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

pub struct Service {
    child: Child,
    log: PathBuf,
}

impl Service {
    /// Start `newsalert run` on config `dir` with extra environment `env`.
    pub fn start<I, K, V>(dir: &Path, env: I) -> Service
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        Service::start_command("run", dir, env)
    }

    /// Start `newsalert COMMAND` on config `dir` with extra environment `env`.
    pub fn start_command<I, K, V>(command: &str, dir: &Path, env: I) -> Service
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let log = dir.join("service.log");
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_newsalert"))
            .args([command, "--config"])
            .arg(dir)
            .env_remove("RUST_LOG")
            .env("NEWSALERT__LOG__FILTER", "info")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start newsalert");
        Service { child, log }
    }

    /// Everything logged so far, by every run on this config dir.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    /// Wait until this run (the `run`th on this config dir) consumes all
    /// four stages (articles, telegram, email, prepared).
    pub async fn wait_consuming(&self, run: usize) {
        assert!(
            wait_until(Duration::from_secs(20), || self.count("consuming")
                >= 4 * run)
            .await,
            "service did not start:\n{}",
            self.log()
        );
    }

    /// Send `signal` (`HUP`, `TERM`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal}");
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The exit status, if the process exits within `timeout`.
    pub async fn exit_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut status = None;
        wait_until(timeout, || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        })
        .await;
        status
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
