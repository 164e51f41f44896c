//! HTML character references (`&amp;`, `&#1040;`, `&#x41;`): recognising
//! one at a given position and decoding it. Named references come from the
//! full HTML table shipped with `html-escape`.

/// A character reference found at the start of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entity {
    /// Length in bytes of the reference (including `&` and any `;`).
    pub len: usize,
    /// What it stands for (one or two chars for named references).
    pub value: EntityValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntityValue {
    Char(char),
    Str(&'static str),
}

/// Named references that browsers also accept without the closing `;`.
const LEGACY_NAMES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("nbsp", "\u{a0}"),
    ("copy", "©"),
    ("reg", "®"),
];

/// Windows-1252 characters that numeric references 0x80..=0x9F mean in
/// browsers (`&#151;` is an em dash); 0 where the code is unassigned.
const WINDOWS_1252: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘',
    '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

/// Recognise a character reference at the start of `s` (which starts with
/// `&`). Returns `None` for anything that is not a valid reference; such
/// text is kept literally.
pub(crate) fn parse_entity(s: &str) -> Option<Entity> {
    let rest = s.strip_prefix('&')?;
    if let Some(num) = rest.strip_prefix('#') {
        return parse_numeric(num).map(|(len, c)| Entity {
            len: len + 2,
            value: EntityValue::Char(c),
        });
    }
    let name_len = rest
        .bytes()
        .take(40)
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    if name_len == 0 {
        return None;
    }
    let name = &rest[..name_len];
    let after = rest[name_len..].chars().next();
    if after == Some(';') {
        let value = lookup_named(name)?;
        return Some(Entity {
            len: name_len + 2,
            value: EntityValue::Str(value),
        });
    }
    if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '=') {
        return None;
    }
    LEGACY_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, value)| Entity {
            len: name_len + 1,
            value: EntityValue::Str(value),
        })
}

fn lookup_named(name: &str) -> Option<&'static str> {
    let table = &html_escape::NAMED_ENTITIES;
    table
        .binary_search_by(|(n, _)| (*n).cmp(name.as_bytes()))
        .ok()
        .map(|i| table[i].1)
}

/// Parse the part after `&#`: decimal digits or `x` + hex digits, then `;`.
/// Returns the number of bytes consumed and the character.
fn parse_numeric(s: &str) -> Option<(usize, char)> {
    let (radix, prefix) = match s.as_bytes().first() {
        Some(b'x' | b'X') => (16, 1),
        _ => (10, 0),
    };
    let digits = s[prefix..]
        .bytes()
        .take_while(|b| (*b as char).is_digit(radix))
        .count();
    if digits == 0 || s.as_bytes().get(prefix + digits) != Some(&b';') {
        return None;
    }
    let text = &s[prefix..prefix + digits];
    let code = u32::from_str_radix(text, radix).unwrap_or(u32::MAX);
    Some((prefix + digits + 1, numeric_char(code)))
}

/// The character a numeric reference stands for, following the HTML rules
/// for out-of-range and C1 control codes.
fn numeric_char(code: u32) -> char {
    match code {
        0 => '\u{fffd}',
        0x80..=0x9f => match WINDOWS_1252[(code - 0x80) as usize] {
            '\0' => '\u{fffd}',
            c => c,
        },
        _ => char::from_u32(code).unwrap_or('\u{fffd}'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Option<(usize, String)> {
        parse_entity(s).map(|e| {
            let text = match e.value {
                EntityValue::Char(c) => c.to_string(),
                EntityValue::Str(s) => s.to_string(),
            };
            (e.len, text)
        })
    }

    #[test]
    fn decodes_references() {
        let cases: &[(&str, Option<(usize, &str)>)] = &[
            ("&amp;", Some((5, "&"))),
            ("&amp;x", Some((5, "&"))),
            ("&amp x", Some((4, "&"))),
            ("&nbsp;", Some((6, "\u{a0}"))),
            ("&quot;", Some((6, "\""))),
            ("&mdash;", Some((7, "—"))),
            ("&laquo;", Some((7, "«"))),
            ("&#1040;", Some((7, "А"))),
            ("&#x41;", Some((6, "A"))),
            ("&#X41;", Some((6, "A"))),
            ("&#151;", Some((6, "—"))),
            ("&#0;", Some((4, "\u{fffd}"))),
            ("&#xD800;", Some((8, "\u{fffd}"))),
            ("&#99999999999999999999;", Some((23, "\u{fffd}"))),
            ("&bogus;", None),
            ("&ampere", None),
            ("&#;", None),
            ("&#x;", None),
            ("&#12", None),
            ("&", None),
            ("& b", None),
            ("&;", None),
        ];
        for (input, want) in cases {
            let want = want.map(|(n, s)| (n, s.to_string()));
            assert_eq!(decode(input), want, "input {input:?}");
        }
    }
}
