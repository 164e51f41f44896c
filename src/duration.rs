//! Durations as admins write them: numbers with units `s`, `m`, `h`, `d`
//! (`"90s"`, `"5m"`, `"1h30m"`). The one parser behind feed intervals,
//! `/pause 2h`, and `digest = "every 20s"`.

use std::time::Duration;

/// A duration written as numbers with units `s`, `m`, `h`, `d`: `"90s"`,
/// `"5m"`, `"1h30m"`; at least one second.
///
/// # Errors
/// What is wrong with it, e.g. for a message `interval …`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration such as \"5m\", \"90s\" or \"1h30m\"");
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || s.trim().is_empty() {
        return Err(bad());
    }
    if total == 0 {
        return Err(format!("{s:?} must be at least 1s"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases: &[(&str, Option<u64>)] = &[
            ("20s", Some(20)),
            ("5m", Some(300)),
            ("1h30m", Some(5400)),
            ("2d", Some(172_800)),
            (" 4h ", Some(14_400)),
            ("0s", None),
            ("", None),
            ("5", None),
            ("h", None),
            ("5x", None),
            ("99999999999999999999d", None),
        ];
        for (text, want) in cases {
            let got = parse_duration(text).ok().map(|d| d.as_secs());
            assert_eq!(got, *want, "{text:?}");
        }
    }
}
