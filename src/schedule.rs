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
//!
//! `every <duration>` with a duration that divides a day (`hourly`,
//! `every 4h`, `every 20s`) cuts each local day into slots from local
//! midnight, so `every 6h` sends at 00:00, 06:00, 12:00 and 18:00 where
//! the subscriber lives, and `hourly` on the hour in Asia/Kolkata too;
//! the per-hour Telegram cap counts local clock hours the same way. A slot
//! boundary in a DST gap falls at the gap's end and one in the repeated
//! hour at its first occurrence, so a slot may be shorter or longer on
//! those days but never repeats. Other durations (`every 7h`, `every
//! 2d`) run from the Unix epoch.

use crate::subscriber::{DigestSchedule, QuietHours};
use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc,
};
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

const DAY_SECS: u64 = 86_400;

/// The instant of local wall time `secs` seconds after midnight on `date`
/// (`secs` may reach the next midnight). A time in a DST gap is taken at
/// the gap's end (the transition), one that occurs twice at its first
/// occurrence: later wall times never give earlier instants.
fn wall(tz: Tz, date: NaiveDate, secs: u64) -> DateTime<Utc> {
    let local =
        date.and_time(NaiveTime::MIN) + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(0));
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // The last wall minute before the gap exists; the transition
            // is a minute after it (zones change offset on whole minutes).
            let mut m = local - chrono::Duration::seconds(i64::from(local.second()));
            for _ in 0..24 * 60 {
                m -= chrono::Duration::minutes(1);
                if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                    tz.from_local_datetime(&m)
                {
                    return t.with_timezone(&Utc) + chrono::Duration::minutes(1);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

/// The slot of `len` seconds (a divisor of a day) of `t`'s local day in
/// `tz` that holds `t`; slots start at local midnight.
fn slot_of_day(tz: Tz, t: DateTime<Utc>, len: u64) -> Period {
    let local = t.with_timezone(&tz);
    let date = local.date_naive();
    let boundary = |k: u64| wall(tz, date, k * len);
    let mut k = u64::from(local.num_seconds_from_midnight()) / len;
    // Around a DST change the wall clock and the instant disagree by up to
    // an hour: step to the slot that holds `t` (empty slots are passed).
    while k > 0 && boundary(k) > t {
        k -= 1;
    }
    while (k + 1) * len <= DAY_SECS && boundary(k + 1) <= t {
        k += 1;
    }
    Period {
        start: boundary(k),
        end: boundary(k + 1),
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
        DigestSchedule::Every(every)
            if every.subsec_nanos() == 0
                && every.as_secs() > 0
                && DAY_SECS.is_multiple_of(every.as_secs()) =>
        {
            Some(slot_of_day(tz, t, every.as_secs()))
        }
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

/// The local clock hour in `tz` that `t` falls in: the per-hour Telegram
/// cap's period.
pub fn hour_of(tz: Tz, t: DateTime<Utc>) -> Period {
    slot_of_day(tz, t, 3600)
}

#[cfg(test)]
mod tests;
