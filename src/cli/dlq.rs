//! `newsalert dlq list` and `newsalert dlq replay`: the dead-letter stream
//! for operators (see [`crate::dlq`]).

use super::{DlqCommand, exit_code, load_settings};
use crate::deliver::ledger::Ledger;
use crate::dlq;
use crate::nats::Broker;
use std::path::Path;
use std::process::ExitCode;

/// Run a `dlq` subcommand on config directory `dir`.
///
/// # Errors
/// Invalid settings, NATS unreachable, or the stream cannot be read. A
/// failed replay is reported and the rest go on (exit 1).
pub async fn dlq(dir: &Path, command: DlqCommand) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let n = &settings.nats;
    let broker = Broker::connect(n, &crate::observe::Health::default())
        .await
        .map_err(|e| e.to_string())?;
    let entries = dlq::list(&broker, &n.dead_letter_stream).await?;
    match command {
        DlqCommand::List { json } => {
            for e in &entries {
                if json {
                    println!("{}", serde_json::to_string(e).map_err(|e| e.to_string())?);
                } else {
                    println!(
                        "{:>6}  {}  {:<18}  {:<28}  deliveries={}  {}",
                        e.id, e.time, e.kind, e.original_subject, e.deliveries, e.reason
                    );
                }
            }
            if !json {
                eprintln!(
                    "{} dead letter(s) in {}",
                    entries.len(),
                    n.dead_letter_stream
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Replay { ids, all } => {
            let buckets = broker.ledger_buckets(n).await.map_err(|e| e.to_string())?;
            let ledger = Ledger::new(buckets.sent, buckets.targets);
            let mut failed = false;
            for id in ids
                .iter()
                .filter(|id| !entries.iter().any(|e| e.id == **id))
            {
                eprintln!("dead letter {id}: not found");
                failed = true;
            }
            let chosen = entries.iter().filter(|e| all || ids.contains(&e.id));
            let mut replayed = 0;
            for e in chosen {
                match dlq::replay(&broker, &n.dead_letter_stream, e, &ledger).await {
                    Ok(()) => replayed += 1,
                    Err(err) => {
                        eprintln!("{err}");
                        failed = true;
                    }
                }
            }
            eprintln!("replayed {replayed} dead letter(s)");
            Ok(exit_code(failed))
        }
    }
}
