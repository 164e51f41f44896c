//! When things happen in a subscriber's time zone, as pure functions of an
//! instant: the digest period an instant falls in ([`period_of`]), the
//! quiet-hours window it falls in ([`quiet_window`]) and its clock hour
//! ([`hour_of`]). No I/O and no clock: callers pass the instant.
//!
//! Local wall-clock times are resolved to instants once per local date,
//! so DST changes neither skip nor repeat a period: a time that does not
//! exist (Europe/Berlin 02:30 on the spring-forward Sunday) is taken an
//! hour later (03:30 CEST), and a time that occurs twice (02:30 on the
//! fall-back Sunday) is taken at its first occurrence.

use crate::subscriber::{DigestSchedule, QuietHours};
use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// The instant local time `hour:minute` on `date` in `tz` names.
fn resolve(tz: Tz, date: NaiveDate, (hour, minute): (u8, u8)) -> DateTime<Utc> {
    let time =
        NaiveTime::from_hms_opt(u32::from(hour), u32::from(minute), 0).unwrap_or(NaiveTime::MIN);
    let local = date.and_time(time);
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        // In a DST gap: the wall clock jumped over it; an hour later exists.
        LocalResult::None => match tz.from_local_datetime(&(local + chrono::Duration::hours(1))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => Utc.from_utc_datetime(&local),
        },
    }
}

fn day(date: NaiveDate, delta: i64) -> NaiveDate {
    let shifted = if delta >= 0 {
        date.checked_add_days(Days::new(delta.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(delta.unsigned_abs()))
    };
    shifted.unwrap_or(date)
}

/// The period of `schedule` that `t` falls in (`None`: `Off`).
pub fn period_of(schedule: DigestSchedule, tz: Tz, t: DateTime<Utc>) -> Option<Period> {
    match schedule {
        DigestSchedule::Off => None,
        DigestSchedule::Every(every) => {
            let len = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
            let start_ms = t.timestamp_millis().div_euclid(len) * len;
            let at = |ms| DateTime::from_timestamp_millis(ms).unwrap_or(t);
            Some(Period {
                start: at(start_ms),
                end: at(start_ms.saturating_add(len)),
            })
        }
        DigestSchedule::Daily { hour, minute } => Some(around(tz, t, 1, |d| d, (hour, minute))),
        DigestSchedule::Weekly {
            weekday,
            hour,
            minute,
        } => Some(around(
            tz,
            t,
            7,
            |d| {
                let back =
                    (7 + d.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
                day(d, -i64::from(back))
            },
            (hour, minute),
        )),
    }
}

/// The period between boundaries `step` days apart, at `hm` local time on
/// the dates `anchor` picks, around `t`.
fn around(
    tz: Tz,
    t: DateTime<Utc>,
    step: i64,
    anchor: impl Fn(NaiveDate) -> NaiveDate,
    hm: (u8, u8),
) -> Period {
    let d0 = anchor(t.with_timezone(&tz).date_naive());
    let b = resolve(tz, d0, hm);
    if t >= b {
        Period {
            start: b,
            end: resolve(tz, day(d0, step), hm),
        }
    } else {
        Period {
            start: resolve(tz, day(d0, -step), hm),
            end: b,
        }
    }
}

/// The quiet-hours window `t` falls in, if it falls in one.
pub fn quiet_window(quiet: QuietHours, tz: Tz, t: DateTime<Utc>) -> Option<Period> {
    let today = t.with_timezone(&tz).date_naive();
    let crosses = quiet.end <= quiet.start;
    [day(today, -1), today].into_iter().find_map(|d| {
        let window = Period {
            start: resolve(tz, d, quiet.start),
            end: resolve(tz, if crosses { day(d, 1) } else { d }, quiet.end),
        };
        window.contains(t).then_some(window)
    })
}

/// The clock hour (UTC) `t` falls in: the per-hour Telegram cap's period.
pub fn hour_of(t: DateTime<Utc>) -> Period {
    period_of(
        DigestSchedule::Every(std::time::Duration::from_secs(3600)),
        chrono_tz::UTC,
        t,
    )
    .unwrap_or(Period { start: t, end: t })
}

#[cfg(test)]
mod tests;
