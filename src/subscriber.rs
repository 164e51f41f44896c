//! Subscribers and their channels: who receives alerts, where, and on what
//! digest schedule. Parsed from the rules file by [`crate::rulebook`].

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A delivery channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Telegram,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Telegram, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Email => "email",
        }
    }

    /// # Errors
    /// An unknown channel name.
    pub fn parse(s: &str) -> Result<Channel, String> {
        match s {
            "telegram" => Ok(Channel::Telegram),
            "email" => Ok(Channel::Email),
            _ => Err(format!(
                "unknown channel {s:?}; expected \"telegram\" or \"email\""
            )),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When email alerts are sent: at once, or collected into a digest.
/// Times are in the subscriber's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestSchedule {
    /// Every alert is sent at once.
    Off,
    /// Every `n` hours, on the hour (`hourly` = every 1h).
    EveryHours(u8),
    /// Every day at `hour:minute`.
    Daily { hour: u8, minute: u8 },
    /// Every week on `weekday` at `hour:minute`.
    Weekly {
        weekday: chrono::Weekday,
        hour: u8,
        minute: u8,
    },
}

impl DigestSchedule {
    /// Parse `off | hourly | every Nh | daily HH:MM | weekly mon HH:MM`.
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<DigestSchedule, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let expected = "expected off, hourly, \"every Nh\" (N in 1..=24), \"daily HH:MM\" or \"weekly mon HH:MM\"";
        let bad = || format!("invalid digest {s:?}: {expected}");
        match words.as_slice() {
            ["off"] => Ok(DigestSchedule::Off),
            ["hourly"] => Ok(DigestSchedule::EveryHours(1)),
            ["every", n] => n
                .strip_suffix('h')
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| (1..=24).contains(n))
                .map(DigestSchedule::EveryHours)
                .ok_or_else(bad),
            ["daily", t] => {
                let (hour, minute) = parse_hh_mm(t).ok_or_else(bad)?;
                Ok(DigestSchedule::Daily { hour, minute })
            }
            ["weekly", day, t] => {
                let weekday = day.parse::<chrono::Weekday>().map_err(|_| bad())?;
                let (hour, minute) = parse_hh_mm(t).ok_or_else(bad)?;
                Ok(DigestSchedule::Weekly {
                    weekday,
                    hour,
                    minute,
                })
            }
            _ => Err(bad()),
        }
    }
}

fn parse_hh_mm(t: &str) -> Option<(u8, u8)> {
    let (h, m) = t.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

/// A validated subscriber.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    pub id: String,
    pub telegram_chat_id: Option<i64>,
    pub email: Option<lettre::Address>,
    pub digest: DigestSchedule,
    pub timezone: Tz,
}

impl Subscriber {
    /// The channels this subscriber can be reached on.
    pub fn channels(&self) -> Vec<Channel> {
        let mut out = Vec::new();
        if self.telegram_chat_id.is_some() {
            out.push(Channel::Telegram);
        }
        if self.email.is_some() {
            out.push(Channel::Email);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    #[test]
    fn digest_schedules() {
        let ok: &[(&str, DigestSchedule)] = &[
            ("off", DigestSchedule::Off),
            ("hourly", DigestSchedule::EveryHours(1)),
            ("every 4h", DigestSchedule::EveryHours(4)),
            ("daily 08:00", DigestSchedule::Daily { hour: 8, minute: 0 }),
            (
                "weekly mon 23:59",
                DigestSchedule::Weekly {
                    weekday: Weekday::Mon,
                    hour: 23,
                    minute: 59,
                },
            ),
        ];
        for (s, want) in ok {
            assert_eq!(DigestSchedule::parse(s).as_ref(), Ok(want), "{s}");
        }
        for bad in [
            "",
            "daily",
            "daily 24:00",
            "daily 8:00",
            "every 0h",
            "every 25h",
            "weekly xyz 08:00",
            "sometimes",
        ] {
            assert!(DigestSchedule::parse(bad).is_err(), "{bad}");
        }
    }
}
