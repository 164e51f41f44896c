//! Telegram alerts partitioned by chat (pure): which partition a chat
//! belongs to, the subject an alert is published on, and how many
//! partitions each live instance should hold.
//!
//! A chat's partition is FNV-1a of its id's little-endian bytes mod the
//! number of partitions: stable across processes, platforms and releases
//! (unlike `std`'s hasher), so every instance publishing an alert and the
//! one serving its partition agree. The id hashed is the alert's target as
//! the rules file gives it, before any supergroup migration, so a migrated
//! chat stays in its partition. See [`crate::deliver::partitions`] for who
//! serves a partition.

use crate::alert::{Alert, Target};
use crate::settings::subject::alert_subject;
use crate::subscriber::Channel;

/// FNV-1a of `bytes`: a hash that never changes.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The partition of `chat` among `partitions` (at least 1).
pub fn partition_of(chat: i64, partitions: u32) -> u32 {
    (stable_hash(&chat.to_le_bytes()) % u64::from(partitions.max(1))) as u32
}

/// Subject of partition `partition`'s Telegram alerts under `prefix`
/// (`newsalert.alerts` → `newsalert.alerts.telegram.7`).
pub fn partition_subject(prefix: &str, partition: u32) -> String {
    format!("{}.{partition}", alert_subject(prefix, Channel::Telegram))
}

/// Where `alert` is published: its chat's partition for Telegram, the
/// channel's subject otherwise.
pub fn subject_for(prefix: &str, alert: &Alert, partitions: u32) -> String {
    match alert.target {
        Target::TelegramChat(chat) => partition_subject(prefix, partition_of(chat, partitions)),
        Target::Email(_) => alert_subject(prefix, alert.channel),
    }
}

/// How many partitions one of `live` instances should hold: the fair
/// share, rounded up so that every partition has room.
pub fn fair_share(partitions: u32, live: usize) -> usize {
    (partitions as usize).div_ceil(live.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        // Pinned: publisher and server of different releases must agree.
        let pinned = [(0, 16, 5), (1, 16, 4), (-1_001_234_567_890, 16, 6)];
        for (chat, n, want) in pinned {
            assert_eq!(partition_of(chat, n), want, "chat {chat}");
        }
        assert_eq!(partition_of(42, 1), 0);
        assert_eq!(partition_of(42, 0), 0, "0 partitions is read as 1");
        let mut counts = [0usize; 16];
        for chat in 0..16_000 {
            counts[partition_of(chat, 16) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }

    #[test]
    fn subjects_and_shares() {
        assert_eq!(partition_subject("na.alerts", 7), "na.alerts.telegram.7");
        let cases = [(16, 1, 16), (16, 2, 8), (16, 3, 6), (16, 0, 16), (4, 8, 1)];
        for (partitions, live, want) in cases {
            assert_eq!(fair_share(partitions, live), want, "{partitions}/{live}");
        }
    }
}
