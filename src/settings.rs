//! Typed settings, loaded in layers with the `config` crate: built-in
//! defaults (`config/default.toml`, compiled in) → `DIR/default.toml` →
//! `DIR/local.toml` → `NEWSALERT__SECTION__KEY` environment variables.
//! [`Settings::validate`] reports every problem at once, naming the key.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

const BUILTIN_DEFAULTS: &str = include_str!("../config/default.toml");

/// All settings of one instance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub nats: NatsSettings,
    pub rules: RulesSettings,
    pub pipeline: PipelineSettings,
    pub delivery: DeliverySettings,
    pub telegram: TelegramSettings,
    pub smtp: SmtpSettings,
    pub http: HttpSettings,
    pub log: LogSettings,
    /// The config directory these settings were loaded from.
    #[serde(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSettings {
    pub url: String,
    pub user: String,
    pub password: SecretString,
    pub token: SecretString,
    pub creds_file: String,
    pub tls_required: bool,
    pub tls_ca_file: String,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    pub stream: String,
    pub subjects: Vec<String>,
    pub consumer: String,
    pub ack_wait_secs: u64,
    pub dead_letter_stream: String,
    pub dead_letter_subject: String,
    pub alerts_stream: String,
    pub alerts_subject: String,
    pub sent_bucket: String,
    pub sent_retention_days: u64,
    pub targets_bucket: String,
    pub duplicate_window_secs: u64,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSettings {
    pub path: PathBuf,
    pub watch: bool,
    /// How often a watched rules file is checked for changes (milliseconds).
    pub poll_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSettings {
    pub max_event_bytes: usize,
    pub clean_text: bool,
    pub concurrency: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    pub retry_attempts: u32,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    pub max_age_secs: u64,
    pub telegram_concurrency: usize,
    pub email_concurrency: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    pub bot_token: SecretString,
    pub api_url: String,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: SecretString,
    pub from: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub listen: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
    pub format: String,
}

/// A settings problem: where (file or key) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct SettingsError {
    pub place: String,
    pub message: String,
}

fn problem(place: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError {
        place: place.into(),
        message: message.into(),
    }
}

impl Settings {
    /// Load the layered settings for config directory `dir`, with the
    /// process environment.
    ///
    /// # Errors
    /// Unreadable or malformed files, wrong types or unknown keys.
    pub fn load(dir: &Path) -> Result<Settings, SettingsError> {
        Self::load_with_env(dir, std::env::vars())
    }

    /// [`Settings::load`] with an explicit environment (for tests).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_with_env(
        dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        use config::{Config, Environment, File, FileFormat};
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("NEWSALERT__"))
            .collect();
        let mut builder =
            Config::builder().add_source(File::from_str(BUILTIN_DEFAULTS, FileFormat::Toml));
        for name in ["default.toml", "local.toml"] {
            let path = dir.join(name);
            if path.exists() {
                check_toml_syntax(&path)?;
                builder = builder.add_source(File::from(path).format(FileFormat::Toml));
            }
        }
        builder = builder.add_source(
            Environment::with_prefix("NEWSALERT")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("nats.subjects")
                .try_parsing(true)
                .source(Some(env)),
        );
        let config = builder
            .build()
            .map_err(|e| problem(dir.display().to_string(), e.to_string()))?;
        let mut settings: Settings = config
            .try_deserialize()
            .map_err(|e| problem(dir.display().to_string(), e.to_string()))?;
        settings.dir = dir.to_path_buf();
        Ok(settings)
    }

    /// The rules file: `rules.path`, relative paths taken from the config
    /// directory.
    pub fn rules_path(&self) -> PathBuf {
        self.dir.join(&self.rules.path)
    }

    /// Every problem with values that parsed but make no sense.
    pub fn validate(&self) -> Vec<SettingsError> {
        let mut out = Vec::new();
        let n = &self.nats;
        for url in n.url.split(',') {
            if url::Url::parse(url.trim()).is_err() && !url.trim().contains(':') {
                out.push(problem(
                    "nats.url",
                    format!("{:?} is not a URL", url.trim()),
                ));
            }
        }
        let auth = [
            !n.user.is_empty(),
            !n.token.expose_secret().is_empty(),
            !n.creds_file.is_empty(),
        ];
        if auth.iter().filter(|b| **b).count() > 1 {
            out.push(problem(
                "nats",
                "set at most one of user+password, token, creds_file",
            ));
        }
        for (key, file) in [
            ("nats.creds_file", &n.creds_file),
            ("nats.tls_ca_file", &n.tls_ca_file),
            ("nats.tls_cert_file", &n.tls_cert_file),
            ("nats.tls_key_file", &n.tls_key_file),
        ] {
            if !file.is_empty() && !Path::new(file).exists() {
                out.push(problem(key, format!("file {file:?} does not exist")));
            }
        }
        if n.subjects.is_empty() {
            out.push(problem("nats.subjects", "needs at least one subject"));
        }
        for (key, name) in [
            ("nats.stream", &n.stream),
            ("nats.consumer", &n.consumer),
            ("nats.dead_letter_stream", &n.dead_letter_stream),
            ("nats.alerts_stream", &n.alerts_stream),
            ("nats.sent_bucket", &n.sent_bucket),
            ("nats.targets_bucket", &n.targets_bucket),
        ] {
            if name.is_empty() || name.contains(['.', ' ', '*', '>', '/', '\\']) {
                out.push(problem(
                    key,
                    format!("{name:?} is not a valid JetStream name"),
                ));
            }
        }
        if n.subjects
            .iter()
            .any(|s| subjects_overlap(s, &n.dead_letter_subject))
        {
            out.push(problem(
                "nats.dead_letter_subject",
                "must not overlap nats.subjects",
            ));
        }
        if self.rules.poll_ms == 0 {
            out.push(problem("rules.poll_ms", "must be > 0"));
        }
        if self.pipeline.max_event_bytes == 0 || self.pipeline.concurrency == 0 {
            out.push(problem(
                "pipeline",
                "max_event_bytes and concurrency must be > 0",
            ));
        }
        if url::Url::parse(&self.telegram.api_url).is_err() {
            out.push(problem(
                "telegram.api_url",
                format!("{:?} is not a URL", self.telegram.api_url),
            ));
        }
        if !self.smtp.host.is_empty() && self.smtp.from.parse::<lettre::message::Mailbox>().is_err()
        {
            out.push(problem(
                "smtp.from",
                format!("{:?} is not a mailbox", self.smtp.from),
            ));
        }
        if self.http.listen.parse::<std::net::SocketAddr>().is_err() {
            out.push(problem(
                "http.listen",
                format!("{:?} is not host:port", self.http.listen),
            ));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            out.push(problem("log.format", "must be \"text\" or \"json\""));
        }
        out
    }

    /// How often a watched rules file is checked for changes.
    pub fn rules_poll(&self) -> Duration {
        Duration::from_millis(self.rules.poll_ms.max(1))
    }

    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.nats.ack_wait_secs.max(1))
    }
}

/// Where the value of `key` (`section.name` or `section`) was set, for
/// messages: `file:line:col` of the last layer that sets it, the
/// environment variable, or the built-in defaults.
pub fn locate(dir: &Path, key: &str, env: &[(String, String)]) -> String {
    let var = format!("NEWSALERT__{}", key.replace('.', "__").to_ascii_uppercase());
    if env.iter().any(|(k, _)| *k == var) {
        return format!("environment {var}");
    }
    let (section, name) = key.split_once('.').unwrap_or((key, ""));
    for file in ["local.toml", "default.toml"] {
        let path = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut current = "";
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix('[') {
                current = rest.split(']').next().unwrap_or_default().trim();
                if name.is_empty() && current == section {
                    return format!(
                        "{}:{}:{}",
                        path.display(),
                        i + 1,
                        line.len() - trimmed.len() + 1
                    );
                }
                continue;
            }
            let k = trimmed.split('=').next().unwrap_or_default().trim();
            if current == section && !name.is_empty() && k == name && trimmed.contains('=') {
                return format!(
                    "{}:{}:{}",
                    path.display(),
                    i + 1,
                    line.len() - trimmed.len() + 1
                );
            }
        }
    }
    "built-in default".to_string()
}

/// Whether two subject patterns can match the same subject.
fn subjects_overlap(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.split('.'), b.split('.'));
    loop {
        match (a.next(), b.next()) {
            (Some(">"), _) | (_, Some(">")) => return true,
            (None, None) => return true,
            (Some(x), Some(y)) if x == y || x == "*" || y == "*" => {}
            _ => return false,
        }
    }
}

/// The `config` crate loses line numbers; parse each file once with `toml`
/// to report syntax errors as `file:line:col`.
fn check_toml_syntax(path: &Path) -> Result<(), SettingsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| problem(path.display().to_string(), e.to_string()))?;
    if let Err(e) = text.parse::<toml::Table>() {
        let place = match e.span() {
            Some(span) => {
                let (line, col) = crate::location::line_col(&text, span.start);
                format!("{}:{line}:{col}", path.display())
            }
            None => path.display().to_string(),
        };
        return Err(problem(place, e.message().to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("default.toml"),
            "[nats]\nstream = \"A\"\nconsumer = \"c1\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("local.toml"), "[nats]\nstream = \"B\"\n").unwrap();
        let s = Settings::load_with_env(
            dir.path(),
            env(&[
                ("NEWSALERT__NATS__URL", "nats://10.0.0.1:4333"),
                ("NEWSALERT__NATS__SUBJECTS", "a.>,b.>"),
                ("NEWSALERT__TELEGRAM__BOT_TOKEN", "123:ABC"),
                ("NEWSALERT__SMTP__PORT", "2525"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.nats.stream, "B");
        assert_eq!(s.nats.consumer, "c1");
        assert_eq!(s.nats.url, "nats://10.0.0.1:4333");
        assert_eq!(s.nats.subjects, vec!["a.>", "b.>"]);
        assert_eq!(s.telegram.bot_token.expose_secret(), "123:ABC");
        assert_eq!(s.smtp.port, 2525);
        assert_eq!(s.rules_path(), dir.path().join("rules.toml"));
        assert!(s.validate().is_empty(), "{:?}", s.validate());
    }

    #[test]
    fn errors_name_the_place_and_hide_secrets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("local.toml"), "[smtp]\nport = \"x\n").unwrap();
        let err = Settings::load_with_env(dir.path(), env(&[])).unwrap_err();
        assert!(err.place.ends_with("local.toml:2:10"), "{err}");

        std::fs::write(dir.path().join("local.toml"), "[smtp]\nprot = 1\n").unwrap();
        let err = Settings::load_with_env(dir.path(), env(&[])).unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");

        let s = Settings::load_with_env(
            dir.path().join("missing").as_path(),
            env(&[
                ("NEWSALERT__SMTP__PASSWORD", "hunter2"),
                ("NEWSALERT__HTTP__LISTEN", "nope"),
            ]),
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let problems = s.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].place, "http.listen");
    }

    #[test]
    fn problems_are_located_in_the_layer_that_set_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("local.toml"),
            "# x\n[http]\n  listen = \"nope\"\n",
        )
        .unwrap();
        let place = locate(dir.path(), "http.listen", &[]);
        assert!(place.ends_with("local.toml:3:3"), "{place}");
        let env = env(&[("NEWSALERT__SMTP__FROM", "x")]);
        assert_eq!(
            locate(dir.path(), "smtp.from", &env),
            "environment NEWSALERT__SMTP__FROM"
        );
        assert_eq!(locate(dir.path(), "log.format", &[]), "built-in default");
    }

    #[test]
    fn subject_overlap() {
        assert!(subjects_overlap("news.articles.>", "news.articles.x"));
        assert!(subjects_overlap("news.*.x", "news.a.x"));
        assert!(!subjects_overlap("news.articles.>", "newsalert.dlq"));
    }
}
