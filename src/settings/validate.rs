//! [`Settings::validate`]: every problem with values that parsed but make
//! no sense, each named by its key (`section.name`, or `section` when
//! several keys are involved) so `newsalert check` can locate it.

use super::subject::subjects_overlap;
use super::{Settings, SettingsError, problem};
use crate::dkim;
use secrecy::ExposeSecret;
use std::path::Path;

/// Most alerts in one email batch message: ~1 KB each, well under
/// NATS's default 1 MB payload limit.
const MAX_EMAIL_BATCH: usize = 256;

impl Settings {
    /// Every problem with values that parsed but make no sense.
    pub fn validate(&self) -> Vec<SettingsError> {
        let mut out = Vec::new();
        self.validate_nats(&mut out);
        self.validate_feeds(&mut out);
        self.validate_story_and_bot(&mut out);
        if self.rules.poll_ms == 0 {
            out.push(problem("rules.poll_ms", "must be > 0"));
        }
        if self.pipeline.max_event_bytes == 0 || self.pipeline.concurrency == 0 {
            out.push(problem(
                "pipeline",
                "max_event_bytes and concurrency must be > 0",
            ));
        }
        if !(1..=MAX_EMAIL_BATCH).contains(&self.delivery.email_batch) {
            out.push(problem(
                "delivery.email_batch",
                format!("must be 1 to {MAX_EMAIL_BATCH} (alerts per message)"),
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
        self.validate_smtp(&mut out);
        if !matches!(self.log.format.as_str(), "text" | "json") {
            out.push(problem("log.format", "must be \"text\" or \"json\""));
        }
        let listen = &self.http.listen;
        if !listen.is_empty() && listen.parse::<std::net::SocketAddr>().is_err() {
            out.push(problem(
                "http.listen",
                format!("{listen:?} is not an address such as \"127.0.0.1:9464\""),
            ));
        }
        out
    }

    /// `[feeds]`; where items go only matters (and is only checked) when
    /// there is a feed list, so `run` never fails over an unused setting.
    fn validate_feeds(&self, out: &mut Vec<SettingsError>) {
        let f = &self.feeds;
        let covered = self
            .nats
            .subjects
            .iter()
            .any(|s| subjects_overlap(s, &f.subject))
            && !f.subject.contains(['*', '>']);
        if !covered && self.feeds_path().exists() {
            out.push(problem(
                "feeds.subject",
                format!("{:?} must be a subject nats.subjects cover", f.subject),
            ));
        }
        if f.default_interval_secs == 0 || f.timeout_secs == 0 || f.max_body_bytes == 0 {
            out.push(problem(
                "feeds",
                "default_interval_secs, timeout_secs and max_body_bytes must be > 0",
            ));
        }
    }

    /// The `Message-ID` domain and DKIM signing: a key that parses, a
    /// selector, a signing domain.
    fn validate_smtp(&self, out: &mut Vec<SettingsError>) {
        let s = &self.smtp;
        if !s.message_id_domain.trim().is_empty()
            && !dkim::is_valid_name(s.message_id_domain.trim())
        {
            out.push(problem(
                "smtp.message_id_domain",
                format!("{:?} is not a domain name", s.message_id_domain),
            ));
        }
        if let Some(path) = self.smtp_ca_path()
            && let Err(e) = crate::deliver::email::smtp::read_ca(&path)
        {
            out.push(problem("smtp.tls_ca_file", e));
        }
        let Some(path) = self.dkim_key_path() else {
            return;
        };
        if let Err(e) = dkim::read_key(&path) {
            out.push(problem("smtp.dkim_key_file", e));
        }
        if !dkim::is_valid_name(s.dkim_selector.trim()) {
            out.push(problem(
                "smtp.dkim_selector",
                format!(
                    "{:?} is not a DKIM selector (needed with dkim_key_file)",
                    s.dkim_selector
                ),
            ));
        }
        match self.smtp.dkim_domain() {
            Some(d) if dkim::is_valid_name(&d) => {}
            Some(d) => out.push(problem(
                "smtp.dkim_domain",
                format!("{d:?} is not a domain name"),
            )),
            None => out.push(problem(
                "smtp.dkim_domain",
                "needed with dkim_key_file when smtp.from is not a mailbox",
            )),
        }
    }

    fn validate_story_and_bot(&self, out: &mut Vec<SettingsError>) {
        if !(self.story.similarity > 0.0 && self.story.similarity <= 1.0) {
            out.push(problem("story.similarity", "must be > 0 and <= 1"));
        }
        if self.story.window_secs == 0 {
            out.push(problem("story.window_secs", "must be > 0"));
        }
        if self.bot.lease_ttl_secs < 3 {
            out.push(problem("bot.lease_ttl_secs", "must be at least 3"));
        }
        let share = self.stats.too_broad_share;
        if !(share > 0.0 && share <= 1.0) {
            out.push(problem("stats.too_broad_share", "must be > 0 and <= 1"));
        }
        if self.stats.flush_secs == 0 || self.stats.stale_after_days == 0 {
            out.push(problem(
                "stats",
                "flush_secs and stale_after_days must be > 0",
            ));
        }
        if self.telegram.lease_ttl_secs < 3 {
            out.push(problem("telegram.lease_ttl_secs", "must be at least 3"));
        }
        if !(1..=1024).contains(&self.telegram.partitions) {
            out.push(problem("telegram.partitions", "must be 1 to 1024"));
        }
    }

    fn validate_nats(&self, out: &mut Vec<SettingsError>) {
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
            !n.nkey_seed.expose_secret().is_empty() || !n.nkey_file.is_empty(),
        ];
        if auth.iter().filter(|b| **b).count() > 1 {
            out.push(problem(
                "nats",
                "set at most one of user+password, token, creds_file, nkey_seed/nkey_file",
            ));
        }
        if !n.nkey_seed.expose_secret().is_empty() && !n.nkey_file.is_empty() {
            out.push(problem("nats", "set nkey_seed or nkey_file, not both"));
        }
        for (key, file) in [
            ("nats.creds_file", &n.creds_file),
            ("nats.nkey_file", &n.nkey_file),
            ("nats.tls_ca_file", &n.tls_ca_file),
            ("nats.tls_cert_file", &n.tls_cert_file),
            ("nats.tls_key_file", &n.tls_key_file),
        ] {
            if !file.is_empty() && !Path::new(file).exists() {
                out.push(problem(key, format!("file {file:?} does not exist")));
            }
        }
        if !(1..=5).contains(&n.replicas) {
            out.push(problem("nats.replicas", "must be 1 to 5"));
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
            ("feeds.seen_bucket", &self.feeds.seen_bucket),
            ("story.bucket", &self.story.bucket),
            ("bot.prefs_bucket", &self.bot.prefs_bucket),
            ("bot.lease_bucket", &self.bot.lease_bucket),
            ("stats.bucket", &self.stats.bucket),
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
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    /// Environment variables, and the keys the problems should name.
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
    );

    #[test]
    fn each_problem_names_its_key() {
        let cases: &[Case] = &[
            (&[], &[]),
            (&[("NEWSALERT__NATS__URL", "not a url")], &["nats.url"]),
            (
                &[
                    ("NEWSALERT__NATS__USER", "u"),
                    ("NEWSALERT__NATS__TOKEN", "t"),
                ],
                &["nats"],
            ),
            (&[("NEWSALERT__NATS__STREAM", "a.b")], &["nats.stream"]),
            (
                &[("NEWSALERT__NATS__DEAD_LETTER_SUBJECT", "news.articles.x")],
                &["nats.dead_letter_subject"],
            ),
            (&[("NEWSALERT__RULES__POLL_MS", "0")], &["rules.poll_ms"]),
            (&[("NEWSALERT__PIPELINE__CONCURRENCY", "0")], &["pipeline"]),
            (
                &[("NEWSALERT__TELEGRAM__API_URL", "x")],
                &["telegram.api_url"],
            ),
            (
                &[
                    ("NEWSALERT__SMTP__HOST", "h"),
                    ("NEWSALERT__SMTP__FROM", "no mailbox"),
                ],
                &["smtp.from"],
            ),
            (&[("NEWSALERT__LOG__FORMAT", "xml")], &["log.format"]),
            (
                &[("NEWSALERT__FEEDS__SUBJECT", "feeds.in")],
                &["feeds.subject"],
            ),
            (&[("NEWSALERT__FEEDS__TIMEOUT_SECS", "0")], &["feeds"]),
            (
                &[("NEWSALERT__FEEDS__SEEN_BUCKET", "a b")],
                &["feeds.seen_bucket"],
            ),
            (
                &[("NEWSALERT__SMTP__MESSAGE_ID_DOMAIN", "a b")],
                &["smtp.message_id_domain"],
            ),
            (
                &[("NEWSALERT__SMTP__TLS_CA_FILE", "missing-ca.pem")],
                &["smtp.tls_ca_file"],
            ),
            (
                &[("NEWSALERT__SMTP__DKIM_KEY_FILE", "missing.pem")],
                &["smtp.dkim_key_file", "smtp.dkim_selector"],
            ),
            (
                &[
                    ("NEWSALERT__SMTP__DKIM_KEY_FILE", "dkim.key"),
                    ("NEWSALERT__SMTP__DKIM_SELECTOR", "mail"),
                    ("NEWSALERT__SMTP__DKIM_DOMAIN", "not a domain"),
                ],
                &["smtp.dkim_domain"],
            ),
            (
                &[
                    ("NEWSALERT__SMTP__DKIM_KEY_FILE", "dkim.key"),
                    ("NEWSALERT__SMTP__DKIM_SELECTOR", "mail"),
                ],
                &[],
            ),
            (
                &[("NEWSALERT__STORY__SIMILARITY", "1.5")],
                &["story.similarity"],
            ),
            (
                &[("NEWSALERT__BOT__LEASE_TTL_SECS", "1")],
                &["bot.lease_ttl_secs"],
            ),
            (
                &[("NEWSALERT__STATS__TOO_BROAD_SHARE", "0")],
                &["stats.too_broad_share"],
            ),
            (
                &[("NEWSALERT__DELIVERY__EMAIL_BATCH", "0")],
                &["delivery.email_batch"],
            ),
            (
                &[("NEWSALERT__DELIVERY__EMAIL_BATCH", "257")],
                &["delivery.email_batch"],
            ),
            (&[("NEWSALERT__DELIVERY__EMAIL_BATCH", "1")], &[]),
            (
                &[
                    ("NEWSALERT__TELEGRAM__PARTITIONS", "0"),
                    ("NEWSALERT__TELEGRAM__LEASE_TTL_SECS", "2"),
                ],
                &["telegram.lease_ttl_secs", "telegram.partitions"],
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        // An Ed25519 seed, base64.
        std::fs::write(
            dir.path().join("dkim.key"),
            "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("feeds.toml"), "").unwrap();
        for (env, want) in cases {
            let vars = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
            let s = Settings::load_with_env(dir.path(), vars).unwrap();
            let got: Vec<String> = s.validate().into_iter().map(|p| p.place).collect();
            assert_eq!(&got, want, "{env:?}");
        }
    }
}
