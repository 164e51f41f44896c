//! Decoding tests: plain articles and every CloudEvents form, and the
//! reasons invalid events are rejected with.

use super::*;

fn dec(s: &str) -> Result<Article, DecodeError> {
    decode(s.as_bytes(), DEFAULT_MAX_BYTES)
}

#[test]
fn accepts_plain_and_cloudevents() {
    let plain = dec(r#"{"id":"a1","title":"T","body":"B","regions":["az"],"x":1}"#).unwrap();
    assert_eq!(plain.id.as_str(), "a1");
    assert_eq!(plain.regions, vec!["AZ"]);
    let ce = dec(
        r#"{"specversion":"1.0","id":"ev-9","type":"news.article","source":"/crawler",
            "time":"2025-10-25T08:00:00Z","data":{"title":"T","language":"ru-RU"}}"#,
    )
    .unwrap();
    assert_eq!(ce.id.as_str(), "ev-9");
    assert_eq!(ce.language.as_deref(), Some("ru"));
    assert!(ce.published_at.is_some());
    let ce_str = dec(r#"{"specversion":"1.0","id":"e","data":"{\"id\":\"x\",\"title\":\"T\"}"}"#);
    assert_eq!(ce_str.unwrap().id.as_str(), "x");
}

#[test]
fn rejects_with_reasons() {
    let long_id = format!(r#"{{"id":"{}","title":"T"}}"#, "x".repeat(257));
    let cases: &[(&str, &str)] = &[
        ("not json", "bad_json"),
        ("[1,2]", "bad_json"),
        (r#"{"id":"a"}"#, "missing_field"),
        (r#"{"title":"t"}"#, "missing_field"),
        (r#"{"id":"","title":"t"}"#, "invalid_field"),
        (r#"{"id":"a","title":"  "}"#, "invalid_field"),
        (r#"{"id":"a","title":5}"#, "bad_json"),
        (r#"{"id":[1],"title":"t"}"#, "invalid_field"),
        (&long_id, "invalid_field"),
        (r#"{"specversion":"0.3","data":{}}"#, "invalid_field"),
        (r#"{"specversion":"1.0","id":"e"}"#, "missing_field"),
    ];
    for (input, kind) in cases {
        assert_eq!(dec(input).unwrap_err().kind(), *kind, "input {input}");
    }
    let big = format!(r#"{{"id":"a","title":"{}"}}"#, "x".repeat(300_000));
    assert_eq!(dec(&big).unwrap_err().kind(), "too_large");
}

#[test]
fn ids_of_invalid_events_are_peeked_for_diagnostics() {
    assert_eq!(
        peek_id(br#"{"id":"a-1","body":"no title"}"#).as_deref(),
        Some("a-1")
    );
    assert_eq!(
        peek_id(br#"{"specversion":"1.0","id":"ev","data":{"id":7}}"#).as_deref(),
        Some("7")
    );
    assert_eq!(peek_id(b"{not json"), None);
}

#[test]
fn malformed_optional_fields_become_warnings() {
    let a =
        dec(r#"{"id":"a","title":"t","published_at":"yesterday","language":"english"}"#).unwrap();
    assert_eq!(a.published_at, None);
    assert_eq!(a.language, None);
    assert_eq!(a.warnings.len(), 2);
}

#[test]
fn title_and_summary_are_kept_as_sent_and_content_type_names_the_body() {
    let title = r#"Envoys: \"<b>Baku &amp; Yerevan</b>\" agree on <draft> text"#;
    let a = dec(&format!(
        r#"{{"id":"a","title":"{title}","summary":"a &lt; b","body":"x","content_type":"text/plain; charset=utf-8"}}"#
    ))
    .unwrap();
    assert_eq!(
        a.title,
        r#"Envoys: "<b>Baku &amp; Yerevan</b>" agree on <draft> text"#
    );
    assert_eq!(a.summary, "a &lt; b");
    assert_eq!(a.body_format, Some(BodyFormat::Text));
    let cases = [
        ("html", Some(BodyFormat::Html)),
        ("TEXT/HTML", Some(BodyFormat::Html)),
        ("text", Some(BodyFormat::Text)),
        ("markdown", None),
    ];
    for (content_type, format) in cases {
        let a = dec(&format!(
            r#"{{"id":"a","title":"t","content_type":"{content_type}"}}"#
        ))
        .unwrap();
        assert_eq!(a.body_format, format, "{content_type}");
        assert_eq!(a.warnings.len(), usize::from(format.is_none()));
    }
    assert_eq!(dec(r#"{"id":"a","title":"t"}"#).unwrap().body_format, None);
}

/// `decode_message` with the given headers (names as written).
fn dec_msg(payload: &str, headers: &[(&str, &str)]) -> Vec<Event> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_string())
    };
    decode_message(payload.as_bytes(), &header, DEFAULT_MAX_BYTES)
}

fn single(payload: &str, headers: &[(&str, &str)]) -> Result<Article, DecodeError> {
    let mut events = dec_msg(payload, headers);
    assert_eq!(events.len(), 1);
    events.remove(0).article
}

#[test]
fn structured_events_carry_data_or_data_base64() {
    // {"title":"T","summary":"S"} in base64.
    let b64 = "eyJ0aXRsZSI6IlQiLCJzdW1tYXJ5IjoiUyJ9";
    let cases = [
        format!(r#"{{"specversion":"1.0","id":"e1","data_base64":"{b64}"}}"#),
        format!(
            r#"{{"specversion":"1.0","id":"e1","datacontenttype":"application/json","data_base64":"{b64}"}}"#
        ),
        r#"{"specversion":"1.0","id":"e1","datacontenttype":"application/json; charset=utf-8","data":{"title":"T","summary":"S"}}"#.into(),
        r#"{"specversion":"1.0","id":"e1","datacontenttype":"application/vnd.news+json","data":{"title":"T","summary":"S"}}"#.into(),
    ];
    for case in &cases {
        let a = dec(case).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(
            (a.id.as_str(), a.title.as_str(), a.summary.as_str()),
            ("e1", "T", "S"),
            "{case}"
        );
    }
}

#[test]
fn malformed_cloudevents_say_why() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"specversion":"1.0","id":"e","data_base64":"%%%"}"#,
            "data_base64` is not base64",
        ),
        (
            r#"{"specversion":"1.0","id":"e","data_base64":"bm90IGpzb24="}"#,
            "in `data_base64`",
        ),
        (
            r#"{"specversion":"1.0","id":"e","data":{"title":"T"},"data_base64":"e30="}"#,
            "both set",
        ),
        (
            r#"{"specversion":"1.0","id":"e","datacontenttype":"text/plain","data":"T"}"#,
            "datacontenttype",
        ),
        (
            r#"{"specversion":"1.0","id":"e","data":[1]}"#,
            "must be a JSON object",
        ),
        (r#"{"specversion":"2.0","id":"e","data":{}}"#, "specversion"),
    ];
    for (input, want) in cases {
        let err = dec(input).unwrap_err().to_string();
        assert!(err.contains(want), "{input}: {err}");
    }
}

#[test]
fn binary_events_take_attributes_from_headers() {
    let headers = [
        ("ce-specversion", "1.0"),
        ("ce-id", "ev-7"),
        ("ce-source", "/crawler"),
        ("ce-type", "org.example.article"),
        ("ce-time", "2025-10-25T08:00:00Z"),
        ("Content-Type", "application/json"),
    ];
    let a = single(r#"{"title":"T"}"#, &headers).unwrap();
    assert_eq!(a.id.as_str(), "ev-7");
    assert!(a.published_at.is_some());
    // The article's own id wins; content-type may be left out.
    let a = single(r#"{"id":"own","title":"T"}"#, &headers[..5]).unwrap();
    assert_eq!(a.id.as_str(), "own");
    // (headers, body, what the error says)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("ce-specversion", "0.3"), ("ce-id", "x")],
            r#"{"title":"T"}"#,
            "ce-specversion",
        ),
        (
            &[("ce-specversion", "1.0"), ("content-type", "text/plain")],
            "T",
            "content-type",
        ),
        (
            &[("ce-specversion", "1.0")],
            r#"{"title":"T"}"#,
            "missing required field `id`",
        ),
        (
            &[("ce-specversion", "1.0"), ("ce-id", "x")],
            "[1]",
            "expected a JSON object",
        ),
    ];
    for (headers, body, want) in cases {
        let err = single(body, headers).unwrap_err().to_string();
        assert!(err.contains(want), "{headers:?} {body}: {err}");
    }
}

#[test]
fn batches_decode_each_event_on_its_own() {
    let batch = r#"[
        {"specversion":"1.0","id":"b1","data":{"title":"One"}},
        {"specversion":"1.0","id":"b2","data":{"body":"no title"}},
        {"specversion":"1.0","id":"b3","data_base64":"eyJ0aXRsZSI6IlQiLCJzdW1tYXJ5IjoiUyJ9"}
    ]"#;
    for headers in [&[][..], &[("content-type", BATCH)][..]] {
        let events = dec_msg(batch, headers);
        let got: Vec<(Option<usize>, Result<String, &str>)> = events
            .iter()
            .map(|e| {
                (
                    e.element.as_ref().map(|(i, _)| *i),
                    e.article
                        .as_ref()
                        .map(|a| a.id.to_string())
                        .map_err(DecodeError::kind),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(0), Ok("b1".into())),
                (Some(1), Err("missing_field")),
                (Some(2), Ok("b3".into())),
            ]
        );
        let bad = &events[1].element.as_ref().unwrap().1;
        assert_eq!(peek_id(bad).as_deref(), Some("b2"));
    }
    assert!(dec_msg("[]", &[]).is_empty());
    let err = single(r#"{"id":"a","title":"t"}"#, &[("content-type", BATCH)]).unwrap_err();
    assert!(err.to_string().contains("must be a JSON array"), "{err}");
}

const BATCH: &str = "application/cloudevents-batch+json";
