use super::*;
use chrono::Weekday;
use chrono_tz::Europe::Berlin;
use std::collections::BTreeSet;
use std::time::Duration;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn daily(hour: u8, minute: u8) -> DigestSchedule {
    DigestSchedule::Daily { hour, minute }
}

/// Every distinct period start met when walking from `from` to `to` in
/// steps of five minutes.
fn starts(schedule: DigestSchedule, from: &str, to: &str) -> Vec<DateTime<Utc>> {
    let (mut t, end) = (utc(from), utc(to));
    let mut seen = BTreeSet::new();
    while t < end {
        let p = period_of(schedule, Berlin, t).unwrap();
        assert!(p.contains(t), "{t} not in {p:?}");
        seen.insert(p.start);
        t += chrono::Duration::minutes(5);
    }
    seen.into_iter().collect()
}

#[test]
fn daily_periods_around_berlin_dst_changes() {
    // (schedule, instant, want start, want end)
    let table = [
        // Spring forward, Sun 29 Mar 2026 02:00 CET → 03:00 CEST: 08:00 is
        // 07:00Z before, 06:00Z after; that period is 23 hours long.
        (
            daily(8, 0),
            "2026-03-28T12:00:00Z",
            "2026-03-28T07:00:00Z",
            "2026-03-29T06:00:00Z",
        ),
        (
            daily(8, 0),
            "2026-03-29T06:00:00Z",
            "2026-03-29T06:00:00Z",
            "2026-03-30T06:00:00Z",
        ),
        (
            daily(8, 0),
            "2026-03-29T05:59:59Z",
            "2026-03-28T07:00:00Z",
            "2026-03-29T06:00:00Z",
        ),
        // Fall back, Sun 25 Oct 2026 03:00 CEST → 02:00 CET: a 25-hour period.
        (
            daily(8, 0),
            "2026-10-24T12:00:00Z",
            "2026-10-24T06:00:00Z",
            "2026-10-25T07:00:00Z",
        ),
        (
            daily(8, 0),
            "2026-10-25T07:00:00Z",
            "2026-10-25T07:00:00Z",
            "2026-10-26T07:00:00Z",
        ),
        // 02:30 does not exist on 29 Mar: taken as 03:30 CEST (01:30Z).
        (
            daily(2, 30),
            "2026-03-29T01:00:00Z",
            "2026-03-28T01:30:00Z",
            "2026-03-29T01:30:00Z",
        ),
        (
            daily(2, 30),
            "2026-03-29T01:30:00Z",
            "2026-03-29T01:30:00Z",
            "2026-03-30T00:30:00Z",
        ),
        // 02:30 happens twice on 25 Oct: the first (CEST, 00:30Z) counts.
        (
            daily(2, 30),
            "2026-10-25T00:45:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z",
        ),
        (
            daily(2, 30),
            "2026-10-25T01:45:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z",
        ),
        // Weekly on Monday 09:00 (CET in December).
        (
            DigestSchedule::Weekly {
                weekday: Weekday::Mon,
                hour: 9,
                minute: 0,
            },
            "2026-12-09T10:00:00Z",
            "2026-12-07T08:00:00Z",
            "2026-12-14T08:00:00Z",
        ),
        (
            DigestSchedule::Weekly {
                weekday: Weekday::Mon,
                hour: 9,
                minute: 0,
            },
            "2026-12-07T07:59:00Z",
            "2026-11-30T08:00:00Z",
            "2026-12-07T08:00:00Z",
        ),
        // every 20s, from the epoch.
        (
            DigestSchedule::Every(Duration::from_secs(20)),
            "2026-12-07T10:00:47Z",
            "2026-12-07T10:00:40Z",
            "2026-12-07T10:01:00Z",
        ),
        (
            DigestSchedule::Every(Duration::from_secs(4 * 3600)),
            "2026-12-07T10:00:47Z",
            "2026-12-07T08:00:00Z",
            "2026-12-07T12:00:00Z",
        ),
    ];
    for (schedule, t, start, end) in table {
        let want = Period {
            start: utc(start),
            end: utc(end),
        };
        assert_eq!(
            period_of(schedule, Berlin, utc(t)),
            Some(want),
            "{schedule:?} at {t}"
        );
    }
    assert_eq!(
        period_of(DigestSchedule::Off, Berlin, utc("2026-12-07T10:00:00Z")),
        None
    );
}

#[test]
fn one_period_per_local_day_across_dst() {
    for hm in [(8, 0), (2, 30), (2, 0), (3, 0), (0, 0)] {
        let s = daily(hm.0, hm.1);
        // 27..=30 March and 24..=27 October: 4 local dates each, so 5
        // periods (the one before the first boundary included).
        assert_eq!(
            starts(s, "2026-03-26T22:00:00Z", "2026-03-30T22:00:00Z").len(),
            5,
            "{hm:?} spring"
        );
        assert_eq!(
            starts(s, "2026-10-23T21:00:00Z", "2026-10-27T23:00:00Z").len(),
            5,
            "{hm:?} autumn"
        );
    }
    // Periods tile time: each ends where the next starts.
    let all = starts(daily(2, 30), "2026-10-20T00:00:00Z", "2026-11-01T00:00:00Z");
    for w in all.windows(2) {
        assert_eq!(period_of(daily(2, 30), Berlin, w[0]).unwrap().end, w[1]);
    }
}

#[test]
fn quiet_windows() {
    let night = QuietHours::parse("22:00-07:00").unwrap();
    let lunch = QuietHours::parse("12:00-13:30").unwrap();
    let table = [
        (
            night,
            "2026-12-07T22:30:00Z",
            Some(("2026-12-07T21:00:00Z", "2026-12-08T06:00:00Z")),
        ),
        (
            night,
            "2026-12-08T05:59:00Z",
            Some(("2026-12-07T21:00:00Z", "2026-12-08T06:00:00Z")),
        ),
        (night, "2026-12-08T06:00:00Z", None),
        (night, "2026-12-08T12:00:00Z", None),
        // Across spring forward: 22:00 CET to 07:00 CEST is 8 hours.
        (
            night,
            "2026-03-29T00:00:00Z",
            Some(("2026-03-28T21:00:00Z", "2026-03-29T05:00:00Z")),
        ),
        (
            lunch,
            "2026-12-07T11:15:00Z",
            Some(("2026-12-07T11:00:00Z", "2026-12-07T12:30:00Z")),
        ),
        (lunch, "2026-12-07T12:30:00Z", None),
    ];
    for (q, t, want) in table {
        let want = want.map(|(s, e)| Period {
            start: utc(s),
            end: utc(e),
        });
        assert_eq!(quiet_window(q, Berlin, utc(t)), want, "{q} at {t}");
    }
}

#[test]
fn clock_hours() {
    let p = hour_of(utc("2026-12-07T10:59:59Z"));
    assert_eq!(
        (p.start, p.end),
        (utc("2026-12-07T10:00:00Z"), utc("2026-12-07T11:00:00Z"))
    );
}
