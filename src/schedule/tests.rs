use super::*;
use chrono::Weekday;
use chrono_tz::Europe::Berlin;
use chrono_tz::Tz;
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
        // every 20s and every 4h: slots of the local (CET) day.
        (
            DigestSchedule::Every(Duration::from_secs(20)),
            "2026-12-07T10:00:47Z",
            "2026-12-07T10:00:40Z",
            "2026-12-07T10:01:00Z",
        ),
        (
            DigestSchedule::Every(Duration::from_secs(4 * 3600)),
            "2026-12-07T10:00:47Z",
            "2026-12-07T07:00:00Z",
            "2026-12-07T11:00:00Z",
        ),
        // every 7h does not divide a day: from the epoch.
        (
            DigestSchedule::Every(Duration::from_secs(7 * 3600)),
            "2026-12-07T10:00:47Z",
            "2026-12-07T09:00:00Z",
            "2026-12-07T16:00:00Z",
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
    let p = hour_of(chrono_tz::UTC, utc("2026-12-07T10:59:59Z"));
    assert_eq!(
        (p.start, p.end),
        (utc("2026-12-07T10:00:00Z"), utc("2026-12-07T11:00:00Z"))
    );
    // Local clock hours: 16:00-17:00 in Kolkata (UTC+05:30).
    let p = hour_of(chrono_tz::Asia::Kolkata, utc("2026-12-07T10:59:59Z"));
    assert_eq!(
        (p.start, p.end),
        (utc("2026-12-07T10:30:00Z"), utc("2026-12-07T11:30:00Z"))
    );
}

/// Walk `tz` from `from` to `to` in steps of `step` seconds: every period
/// holds its instant, periods tile time (each ends where the next
/// starts), and their starts, in order.
fn tiles(s: DigestSchedule, tz: Tz, from: &str, to: &str, step: i64) -> Vec<Period> {
    let (mut t, end) = (utc(from), utc(to));
    let mut out: Vec<Period> = Vec::new();
    while t < end {
        let p = period_of(s, tz, t).unwrap();
        assert!(p.contains(t), "{s:?}: {t} not in {p:?}");
        match out.last() {
            Some(last) if *last == p => {}
            Some(last) => {
                assert_eq!(last.end, p.start, "{s:?}: gap or overlap at {t}");
                out.push(p);
            }
            None => out.push(p),
        }
        t += chrono::Duration::seconds(step);
    }
    out
}

#[test]
fn every_slots_follow_the_local_day_across_dst() {
    let hourly = DigestSchedule::Every(Duration::from_secs(3600));
    // Berlin, 29 March 2026: 23 local hours, 02:00-03:00 does not exist.
    let spring = tiles(
        hourly,
        Berlin,
        "2026-03-28T23:00:00Z",
        "2026-03-29T22:00:00Z",
        60,
    );
    assert_eq!(spring.len(), 23);
    assert!(
        spring
            .iter()
            .all(|p| p.end - p.start == chrono::Duration::hours(1))
    );
    // 25 October 2026: 02:00-03:00 happens twice; one slot of two hours.
    let autumn = tiles(
        hourly,
        Berlin,
        "2026-10-24T22:00:00Z",
        "2026-10-25T23:00:00Z",
        60,
    );
    assert_eq!(autumn.len(), 24);
    let long: Vec<_> = autumn
        .iter()
        .filter(|p| p.end - p.start == chrono::Duration::hours(2))
        .collect();
    assert_eq!(long.len(), 1, "{autumn:?}");
    assert_eq!(long[0].start, utc("2026-10-25T00:00:00Z"), "02:00 CEST");
    // Sub-hour slots through both changes: tiled, never repeated.
    for (from, to) in [
        ("2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z"),
        ("2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z"),
    ] {
        let every20m = DigestSchedule::Every(Duration::from_secs(20 * 60));
        let slots = tiles(every20m, Berlin, from, to, 20);
        let starts: BTreeSet<_> = slots.iter().map(|p| p.start).collect();
        assert_eq!(starts.len(), slots.len(), "a slot came back: {slots:?}");
    }
    // every 6h: local 00, 06, 12, 18 in New York (EST, UTC-5).
    let six = tiles(
        DigestSchedule::Every(Duration::from_secs(6 * 3600)),
        chrono_tz::America::New_York,
        "2026-12-07T05:00:00Z",
        "2026-12-08T05:00:00Z",
        300,
    );
    let local: Vec<String> = six
        .iter()
        .map(|p| {
            p.start
                .with_timezone(&chrono_tz::America::New_York)
                .format("%H:%M")
                .to_string()
        })
        .collect();
    assert_eq!(local, ["00:00", "06:00", "12:00", "18:00"]);
    // hourly on the hour in Kolkata, not at :30.
    let p = period_of(
        hourly,
        chrono_tz::Asia::Kolkata,
        utc("2026-12-07T10:59:59Z"),
    )
    .unwrap();
    assert_eq!(p.start, utc("2026-12-07T10:30:00Z"));
}
