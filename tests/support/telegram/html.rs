//! Telegram's HTML parse mode, checked as strictly as the Bot API documents
//! it: only the listed tags, properly nested, and only the entities `&lt;`
//! `&gt;` `&amp;` `&quot;` and numeric ones. A bare `&` is refused (the
//! real API lets some through; the service must escape anyway). A bare `>`
//! in text is accepted, as by the real API.

/// Tags Telegram accepts in `parse_mode=HTML`.
const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
];

/// Parses Telegram HTML. Returns the plain text (tags removed, entities
/// decoded) whose length Telegram limits, or the reason Telegram would give
/// after "Bad Request: can't parse entities: ".
///
/// # Errors
/// Unsupported or unclosed tags, mismatched end tags, missing required
/// attributes, unknown or malformed entities.
pub fn parse_html(text: &str) -> Result<String, String> {
    let mut plain = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        match c {
            '<' => i = parse_tag(text, i, &mut open)?,
            '&' => {
                let (decoded, len) = parse_entity(text, i)?;
                plain.push(decoded);
                i += len;
            }
            _ => {
                plain.push(c);
                i += c.len_utf8();
            }
        }
    }
    match open.last() {
        Some(tag) => Err(format!(
            "Can't find end tag corresponding to start tag \"{tag}\""
        )),
        None => Ok(plain),
    }
}

/// Parses the tag starting at byte `start` (a `<`); returns the offset
/// after its `>`.
fn parse_tag(text: &str, start: usize, open: &mut Vec<String>) -> Result<usize, String> {
    let bytes = text.as_bytes();
    let is_end = bytes.get(start + 1) == Some(&b'/');
    let name_start = start + 1 + usize::from(is_end);
    let name_len = bytes[name_start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    let name = text[name_start..name_start + name_len].to_ascii_lowercase();
    let mut i = name_start + name_len;

    if is_end {
        i += count_spaces(&bytes[i..]);
        if bytes.get(i) != Some(&b'>') {
            return Err(format!("Can't find end of tag at byte offset {start}"));
        }
        return match open.pop() {
            Some(expected) if expected == name => Ok(i + 1),
            Some(expected) => Err(format!(
                "Unmatched end tag at byte offset {start}, expected \"</{expected}>\", found \"</{name}>\""
            )),
            None => Err(format!("Unexpected end tag at byte offset {start}")),
        };
    }

    if !TAGS.contains(&name.as_str()) {
        return Err(format!(
            "Unsupported start tag \"{name}\" at byte offset {start}"
        ));
    }
    let mut attributes: Vec<(String, String)> = Vec::new();
    loop {
        i += count_spaces(&bytes[i..]);
        match bytes.get(i) {
            Some(b'>') => break,
            Some(b) if b.is_ascii_alphabetic() => {
                let (attribute, next) = parse_attribute(text, i, start)?;
                attributes.push(attribute);
                i = next;
            }
            _ => return Err(format!("Unclosed start tag at byte offset {start}")),
        }
    }
    let attribute = |key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    match name.as_str() {
        "a" if attribute("href").is_none_or(str::is_empty) => {
            return Err(format!(
                "Tag \"a\" at byte offset {start} must have an href"
            ));
        }
        "span" if attribute("class") != Some("tg-spoiler") => {
            return Err(format!(
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset {start}"
            ));
        }
        "tg-emoji" if attribute("emoji-id").is_none() => {
            return Err(format!(
                "Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset {start}"
            ));
        }
        _ => {}
    }
    open.push(name);
    Ok(i + 1)
}

/// Parses `name`, `name=value`, `name="value"` or `name='value'` at `i`;
/// returns it (value entity-decoded) and the offset after it.
fn parse_attribute(
    text: &str,
    mut i: usize,
    tag_start: usize,
) -> Result<((String, String), usize), String> {
    let bytes = text.as_bytes();
    let name_len = bytes[i..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .count();
    let name = text[i..i + name_len].to_ascii_lowercase();
    i += name_len;
    let after_name = i + count_spaces(&bytes[i..]);
    if bytes.get(after_name) != Some(&b'=') {
        return Ok(((name, String::new()), i));
    }
    i = after_name + 1;
    i += count_spaces(&bytes[i..]);
    let (raw, next) = match bytes.get(i) {
        Some(&quote @ (b'"' | b'\'')) => {
            let len = bytes[i + 1..]
                .iter()
                .position(|b| *b == quote)
                .ok_or_else(|| format!("Unclosed start tag at byte offset {tag_start}"))?;
            (&text[i + 1..i + 1 + len], i + len + 2)
        }
        Some(_) => {
            let len = bytes[i..]
                .iter()
                .take_while(|b| !b.is_ascii_whitespace() && **b != b'>')
                .count();
            (&text[i..i + len], i + len)
        }
        None => return Err(format!("Unclosed start tag at byte offset {tag_start}")),
    };
    let mut value = String::new();
    let mut j = 0;
    while let Some(c) = raw[j..].chars().next() {
        if c == '&' {
            let (decoded, len) = parse_entity(raw, j)?;
            value.push(decoded);
            j += len;
        } else {
            value.push(c);
            j += c.len_utf8();
        }
    }
    Ok(((name, value), next))
}

/// Decodes the entity starting at byte `start` (a `&`); returns the
/// character and the entity's length in bytes.
fn parse_entity(text: &str, start: usize) -> Result<(char, usize), String> {
    let rest = &text[start + 1..];
    let end = rest
        .bytes()
        .take(12)
        .position(|b| b == b';')
        .ok_or_else(|| {
            format!("Character \"&\" at byte offset {start} must be escaped as \"&amp;\"")
        })?;
    let body = &rest[..end];
    let decoded = match body {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => body
            .strip_prefix("#x")
            .or_else(|| body.strip_prefix("#X"))
            .map(|hex| u32::from_str_radix(hex, 16))
            .or_else(|| body.strip_prefix('#').map(str::parse::<u32>))
            .and_then(Result::ok)
            .and_then(char::from_u32)
            .filter(|c| *c != '\0'),
    };
    decoded
        .map(|c| (c, end + 2))
        .ok_or_else(|| format!("Unsupported HTML entity \"&{body};\" at byte offset {start}"))
}

fn count_spaces(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_whitespace()).count()
}
