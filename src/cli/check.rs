//! `newsalert check`: validate settings, rules, digest template overrides
//! and (when present) the feed list, printing every problem with where it
//! was set (`file:line:col`, environment variable or built-in default);
//! exit 1 on errors. When NATS is reachable, also warns about stale and
//! too-broad rules from the rule stats ([`super::rules::check_warnings`]);
//! offline, says so in one line.

use crate::feeds::FeedList;
use crate::regions::Gazetteer;
use crate::rulebook::{RuleBook, Severity};
use crate::settings::Settings;
use crate::settings::position::locate;
use std::path::Path;
use std::process::ExitCode;

/// Check the settings and rules in config directory `dir`.
///
/// # Errors
/// None: problems are printed and reflected in the exit code.
pub async fn check(dir: &Path) -> Result<ExitCode, String> {
    let mut errors = 0;
    let settings = match Settings::load(dir) {
        Ok(s) => s,
        Err(e) => {
            println!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    for p in settings.validate() {
        println!(
            "{}: {}: {}",
            locate(dir, &p.place, &env),
            p.place,
            p.message
        );
        errors += 1;
    }
    // Admins' digest template overrides must parse (file:line).
    let templates = settings.dir.join(&settings.digest.templates_dir);
    if let Err(e) = crate::digest::render::DigestRenderer::new(&templates, 1, None) {
        println!("{e}");
        errors += 1;
    }
    let path = settings.rules_path();
    let gazetteer = Gazetteer::builtin();
    let (mut diagnostics, book) = match RuleBook::load(&path, &gazetteer) {
        Ok(mut book) => (std::mem::take(&mut book.warnings), Some(book)),
        Err(d) => (d, None),
    };
    let feeds = settings.feeds_path();
    let feeds = feeds.exists().then(|| {
        match FeedList::load(&feeds, &gazetteer) {
            Ok(list) => diagnostics.extend(list.warnings),
            Err(d) => diagnostics.extend(d),
        }
        feeds
    });
    for d in &diagnostics {
        println!("{d}");
        errors += usize::from(d.severity == Severity::Error);
    }
    if errors == 0
        && let Some(book) = book
    {
        for line in super::rules::check_warnings(settings, &path, &book).await {
            println!("{line}");
        }
    }
    if errors == 0 {
        println!("{}: OK", path.display());
        if let Some(feeds) = feeds {
            println!("{}: OK", feeds.display());
        }
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{errors} error(s)");
        Ok(ExitCode::FAILURE)
    }
}
