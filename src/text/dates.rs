//! Recognising lines that hold only a date or a time (`21.Oct.2025`,
//! `25 Oct 2025`, `2025-10-21 14:30`, `21 октября 2025`, `2 hours ago`):
//! on news pages such lines sit under the headlines of link lists.

/// Month names and their common abbreviations (prefix stems for Russian,
/// whose months decline).
const MONTHS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
];

const RUSSIAN_MONTH_STEMS: &[&str] = &[
    "январ",
    "феврал",
    "март",
    "апрел",
    "ма",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
    "янв",
    "фев",
    "апр",
    "авг",
    "сен",
    "окт",
    "ноя",
    "дек",
];

/// Words that make a single number a date (`2 hours ago`).
const RELATIVE: &[&str] = &["ago", "today", "yesterday", "назад", "сегодня", "вчера"];

/// Other words that may appear on a date line.
const DATE_WORDS: &[&str] = &[
    "mon",
    "monday",
    "tue",
    "tuesday",
    "wed",
    "wednesday",
    "thu",
    "thursday",
    "fri",
    "friday",
    "sat",
    "saturday",
    "sun",
    "sunday",
    "am",
    "pm",
    "utc",
    "gmt",
    "at",
    "min",
    "mins",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "updated",
    "published",
    "г",
    "года",
    "в",
    "мин",
    "минут",
    "час",
    "часа",
    "часов",
    "пн",
    "вт",
    "ср",
    "чт",
    "пт",
    "сб",
    "вс",
];

/// Characters allowed between the words of a date line.
fn is_date_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '.' | '/' | '-' | ':' | ',' | '|' | '–' | '—' | '(' | ')')
}

/// Whether `line` (already trimmed) is nothing but a date and/or time.
pub(crate) fn is_date_line(line: &str) -> bool {
    if line.is_empty() || line.chars().count() > 48 {
        return false;
    }
    if line
        .chars()
        .any(|c| !c.is_alphanumeric() && !is_date_separator(c))
    {
        return false;
    }
    let (mut numbers, mut anchors) = (0, 0);
    for word in line
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if is_number(&word) {
            numbers += 1;
        } else if is_month(&word) || RELATIVE.contains(&word.as_str()) {
            anchors += 1;
        } else if !DATE_WORDS.contains(&word.as_str()) {
            return false;
        }
    }
    numbers >= 1 && (anchors >= 1 || numbers >= 2)
}

/// `21`, `2025`, `21st`.
fn is_number(word: &str) -> bool {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let suffix = &word[digits..];
    (1..=4).contains(&digits) && ["", "st", "nd", "rd", "th"].contains(&suffix)
}

fn is_month(word: &str) -> bool {
    MONTHS.contains(&word)
        || RUSSIAN_MONTH_STEMS
            .iter()
            .any(|stem| word.starts_with(stem) && word.chars().count() <= stem.chars().count() + 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_date_lines() {
        let cases = [
            ("21.Oct.2025", true),
            ("25 Oct 2025", true),
            ("October 25, 2025", true),
            ("2025-10-21 14:30", true),
            ("21.10.2025", true),
            ("14:30", true),
            ("Mon, 21 Oct 2025 14:30 GMT", true),
            ("21st October 2025", true),
            ("21 октября 2025", true),
            ("21 мая 2025 г.", true),
            ("2 hours ago", true),
            ("2025", false),
            ("", false),
            ("Oct", false),
            ("Trump: New bonds of friendship", false),
            ("May talks resume on 21 Oct 2025", false),
            ("Price: $25", false),
            ("123456 789", false),
        ];
        for (line, want) in cases {
            assert_eq!(is_date_line(line), want, "{line:?}");
        }
    }
}
