//! Just enough MIME to read what lettre sends: headers (unfolded, encoded
//! words), multipart bodies, base64 and quoted-printable text parts.

/// Splits an entity into its header block and body.
fn split_entity(entity: &str) -> (&str, &str) {
    for sep in ["\r\n\r\n", "\n\n"] {
        if let Some(at) = entity.find(sep) {
            return (&entity[..at], &entity[at + sep.len()..]);
        }
    }
    (entity, "")
}

/// The first header `name` of `entity`, unfolded, raw (not decoded).
pub(super) fn header(entity: &str, name: &str) -> Option<String> {
    let (headers, _) = split_entity(entity);
    let mut found: Option<String> = None;
    for line in headers.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(value) = found.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if found.is_some() {
            break;
        }
        if let Some((key, value)) = line.split_once(':')
            && key.trim().eq_ignore_ascii_case(name)
        {
            found = Some(value.trim().to_owned());
        }
    }
    found
}

/// `text/plain; charset=utf-8` → (`text/plain`, param lookup).
fn param(value: &str, key: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Decoded `(content type, text)` of every `text/*` leaf part, with LF
/// line ends and no trailing newline.
pub(super) fn text_parts(entity: &str) -> Vec<(String, String)> {
    let content_type = header(entity, "Content-Type").unwrap_or_else(|| "text/plain".to_owned());
    let mime_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (_, body) = split_entity(entity);
    if mime_type.starts_with("multipart/") {
        let Some(boundary) = param(&content_type, "boundary") else {
            return Vec::new();
        };
        let delimiter = format!("--{boundary}");
        return body
            .split(delimiter.as_str())
            .skip(1) // preamble
            .take_while(|part| !part.starts_with("--"))
            .flat_map(|part| text_parts(part.trim_start_matches(['\r', '\n'])))
            .collect();
    }
    if !mime_type.starts_with("text/") {
        return Vec::new();
    }
    let encoding = header(entity, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => base64_decode(body),
        "quoted-printable" => quoted_printable_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    let text = text.trim_end_matches('\n').to_owned();
    vec![(mime_type, text)]
}

/// Decodes RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?utf-8?Q?...?=`).
pub(super) fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let word = rest[start + 2..].splitn(3, '?').collect::<Vec<_>>();
        let decoded = match word.as_slice() {
            [charset, encoding, tail] => tail.find("?=").map(|end| {
                let text = &tail[..end];
                let bytes = if encoding.eq_ignore_ascii_case("b") {
                    base64_decode(text)
                } else {
                    quoted_printable_decode(&text.replace('_', " "))
                };
                let len = start + 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
                (String::from_utf8_lossy(&bytes).into_owned(), len)
            }),
            _ => None,
        };
        let Some((text, len)) = decoded else { break };
        let between = &rest[..start];
        // Whitespace between two encoded words is not part of the text.
        if !(last_was_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        out.push_str(&text);
        rest = &rest[len..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

/// Decodes base64, ignoring whitespace and anything outside the alphabet.
pub(super) fn base64_decode(input: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in input.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn quoted_printable_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let rest = &bytes[i + 1..];
            if rest.starts_with(b"\r\n") {
                i += 3; // soft line break
                continue;
            }
            if rest.starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex = rest.get(..2).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
