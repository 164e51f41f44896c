//! Subscribers and their channels: who receives alerts, where, on what
//! digest schedule, with which quiet hours and Telegram cap. Parsed from
//! the rules file by [`crate::rulebook`]; when schedules and quiet hours
//! fall is computed by [`crate::schedule`].

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
    /// Every `period` (`hourly` = every 1h, `every 20s`), periods counted
    /// from the Unix epoch, so `every 4h` ends at 00:00, 04:00, … UTC.
    Every(std::time::Duration),
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
    /// Parse `off | hourly | every <duration> | daily HH:MM | weekly mon HH:MM`
    /// (a duration as [`crate::duration`] reads it, 1s to 7d).
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<DigestSchedule, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let expected = "expected off, hourly, \"every <duration>\" (e.g. \"every 4h\", 1s to 7d), \"daily HH:MM\" or \"weekly mon HH:MM\"";
        let bad = || format!("invalid digest {s:?}: {expected}");
        match words.as_slice() {
            ["off"] => Ok(DigestSchedule::Off),
            ["hourly"] => Ok(DigestSchedule::Every(std::time::Duration::from_secs(3600))),
            ["every", n] => crate::duration::parse_duration(n)
                .ok()
                .filter(|d| d.as_secs() <= 7 * 86_400)
                .map(DigestSchedule::Every)
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

/// A daily window `HH:MM-HH:MM` in the subscriber's time zone; it crosses
/// midnight when `end` <= `start` (`22:00-07:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: (u8, u8),
    pub end: (u8, u8),
}

impl QuietHours {
    /// Parse `HH:MM-HH:MM`.
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<QuietHours, String> {
        let bad =
            || format!("invalid quiet_hours {s:?}: expected \"HH:MM-HH:MM\", e.g. \"22:00-07:00\"");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let start = parse_hh_mm(a.trim()).ok_or_else(bad)?;
        let end = parse_hh_mm(b.trim()).ok_or_else(bad)?;
        if start == end {
            return Err(format!(
                "invalid quiet_hours {s:?}: start and end are equal (an empty window)"
            ));
        }
        Ok(QuietHours { start, end })
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ((h1, m1), (h2, m2)) = (self.start, self.end);
        write!(f, "{h1:02}:{m1:02}-{h2:02}:{m2:02}")
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
    /// Telegram alerts in this window are held and summed up at its end.
    pub quiet_hours: Option<QuietHours>,
    /// Telegram alerts beyond this many in a clock hour are folded into
    /// one "N more matches" message at the hour's end.
    pub max_telegram_per_hour: Option<u32>,
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
    use std::time::Duration;

    #[test]
    fn digest_schedules() {
        let ok: &[(&str, DigestSchedule)] = &[
            ("off", DigestSchedule::Off),
            ("hourly", DigestSchedule::Every(Duration::from_secs(3600))),
            (
                "every 4h",
                DigestSchedule::Every(Duration::from_secs(4 * 3600)),
            ),
            ("every 20s", DigestSchedule::Every(Duration::from_secs(20))),
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
            "every 8d",
            "every 4",
            "weekly xyz 08:00",
            "sometimes",
        ] {
            assert!(DigestSchedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quiet_hours() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        assert_eq!((q.start, q.end), ((22, 0), (7, 0)));
        assert_eq!(q.to_string(), "22:00-07:00");
        assert_eq!(QuietHours::parse(" 01:30 - 02:45 ").unwrap().end, (2, 45));
        for bad in [
            "",
            "22:00",
            "22-07",
            "22:00-24:00",
            "7:00-08:00",
            "08:00-08:00",
        ] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }
}
