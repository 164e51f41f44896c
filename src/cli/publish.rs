//! `newsalert publish`: publish JSON / JSONL articles to the article
//! stream with `Nats-Msg-Id` = the article id; `--raw` publishes each line
//! as it is (for testing producers and the dead-letter stream).

use super::{exit_code, load_settings};
use crate::article;
use crate::input;
use crate::nats::Broker;
use crate::settings::subject::default_publish_subject;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Publish the articles in `files` on `subject` (default: the first
/// configured subject with wildcards replaced by `cli`).
///
/// # Errors
/// Invalid settings, NATS unreachable, an unreadable file or an
/// unacknowledged publish. A bad article is reported and skipped (exit 1).
pub async fn publish(
    dir: &Path,
    files: &[PathBuf],
    subject: Option<String>,
    raw: bool,
) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let subject = subject.unwrap_or_else(|| default_publish_subject(&settings.nats.subjects));
    let broker = Broker::connect(&settings.nats, &crate::observe::Health::default())
        .await
        .map_err(|e| e.to_string())?;
    let (mut published, mut failed) = (0, 0);
    for file in files {
        let (name, reader) = input::open(Some(file))?;
        let max_bytes = settings.pipeline.max_event_bytes;
        let items: Box<dyn Iterator<Item = input::ItemResult> + Send> = if raw {
            Box::new(input::raw_lines(reader))
        } else {
            Box::new(input::items(reader, input::item_limit(max_bytes)))
        };
        for item in items {
            let item = match item {
                Ok(i) => i,
                Err((line, e)) => {
                    eprintln!("{name}:{line}: {e}");
                    failed += 1;
                    continue;
                }
            };
            let id = match article::decode(&item.bytes, max_bytes) {
                Ok(a) => a.id.to_string(),
                Err(e) if !raw => {
                    eprintln!("{name}:{}: {e}", item.line);
                    failed += 1;
                    continue;
                }
                Err(_) => format!("raw-{name}-{}", item.line),
            };
            broker
                .publish(subject.clone(), &id, None, item.bytes.into())
                .await
                .map_err(|e| format!("{name}:{}: {e}", item.line))?;
            published += 1;
        }
    }
    eprintln!("published {published} article(s) to {subject}; {failed} rejected");
    Ok(exit_code(failed > 0))
}
