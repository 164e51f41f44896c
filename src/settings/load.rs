//! Layered loading with the `config` crate: built-in defaults
//! (`config/default.toml`, compiled in) → `DIR/default.toml` →
//! `DIR/local.toml` → `NEWSALERT__SECTION__KEY` environment variables.
//! Each file is parsed once with `toml` first, so a syntax error is
//! reported as `file:line:col` (the `config` crate loses positions).

use super::{Settings, SettingsError, problem};
use std::path::Path;

const BUILTIN_DEFAULTS: &str = include_str!("../../config/default.toml");

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
}

/// Parse `path` with `toml` to report a syntax error as `file:line:col`.
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
    use secrecy::ExposeSecret;

    pub(crate) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
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
                ("NEWSALERT__LOG__FORMAT", "nope"),
            ]),
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let problems = s.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].place, "log.format");
    }
}
