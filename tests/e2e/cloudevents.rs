//! Article events built with the official CloudEvents Rust SDK
//! (`cloudevents-sdk`, a client this project did not write) and published
//! black-box through NATS in every form: structured with `data`, with
//! `data_base64`, without `datacontenttype`; binary (attributes in `ce-`
//! headers, the article as the body); batch (a JSON array, each element
//! its own article, a bad element dead-lettered alone). Malformed events
//! are dead-lettered with a reason that says what is wrong.

use crate::delivery::wait_for_dead_letters;
use crate::support::nats::NatsServer;
use crate::support::telegram::FakeTelegram;
use crate::{RULES, config_dir, spawn_app};
use async_nats::HeaderMap;
use async_nats::jetstream;
use cloudevents::event::SpecVersion;
use cloudevents::message::{BinaryDeserializer, BinarySerializer, MessageAttributeValue};
use cloudevents::{Event, EventBuilder, EventBuilderV10};
use serde_json::{Value, json};
use std::time::Duration;

const SUBJECT: &str = "news.articles.ce";

/// An event whose data is an article titled "Baku talks {id}" (without its
/// own id: the event's id stands in), its data set by `data`.
fn event(id: &str, data: impl FnOnce(EventBuilderV10, Value) -> EventBuilderV10) -> Event {
    let article = json!({"title": format!("Baku talks {id}"), "body": "Envoys met."});
    data(
        EventBuilderV10::new()
            .id(id)
            .ty("org.example.article.created")
            .source("https://crawler.example.org/")
            .time("2025-10-25T08:00:00Z"),
        article,
    )
    .build()
    .expect("a valid event")
}

/// The NATS protocol binding's binary mode: each attribute a `ce-` header,
/// `datacontenttype` as `content-type`, the data as the body.
#[derive(Default)]
struct NatsBinary {
    headers: HeaderMap,
}

impl BinarySerializer<(HeaderMap, Vec<u8>)> for NatsBinary {
    fn set_spec_version(mut self, version: SpecVersion) -> cloudevents::message::Result<Self> {
        self.headers
            .insert("ce-specversion", version.to_string().as_str());
        Ok(self)
    }

    fn set_attribute(
        mut self,
        name: &str,
        value: MessageAttributeValue,
    ) -> cloudevents::message::Result<Self> {
        let header = match name {
            "datacontenttype" => "content-type".to_string(),
            _ => format!("ce-{name}"),
        };
        self.headers
            .insert(header.as_str(), value.to_string().as_str());
        Ok(self)
    }

    fn set_extension(
        self,
        name: &str,
        value: MessageAttributeValue,
    ) -> cloudevents::message::Result<Self> {
        self.set_attribute(name, value)
    }

    fn end_with_data(self, body: Vec<u8>) -> cloudevents::message::Result<(HeaderMap, Vec<u8>)> {
        Ok((self.headers, body))
    }

    fn end(self) -> cloudevents::message::Result<(HeaderMap, Vec<u8>)> {
        Ok((self.headers, Vec::new()))
    }
}

async fn send(js: &jetstream::Context, headers: HeaderMap, body: Vec<u8>) {
    js.publish_with_headers(SUBJECT, headers, body.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Structured mode: the event as JSON (`application/cloudevents+json`).
async fn structured(js: &jetstream::Context, event: &Event) {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/cloudevents+json");
    send(js, headers, serde_json::to_vec(event).unwrap()).await;
}

async fn binary(js: &jetstream::Context, event: Event) {
    let (headers, body) = event.deserialize_binary(NatsBinary::default()).unwrap();
    send(js, headers, body).await;
}

#[tokio::test]
async fn every_cloudevents_form_is_delivered_and_bad_events_are_dead_lettered_alone() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let app = spawn_app(config_dir(&nats, Some(&telegram), None, RULES)).await;
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());

    // Structured, `data` a JSON object.
    let e = event("ce-json", |b, a| b.data("application/json", a));
    assert!(serde_json::to_value(&e).unwrap().get("data").is_some());
    structured(&js, &e).await;
    // Structured, `data_base64` (the SDK's form for bytes).
    let e = event("ce-base64", |b, a| {
        b.data("application/json", serde_json::to_vec(&a).unwrap())
    });
    assert!(
        serde_json::to_value(&e)
            .unwrap()
            .get("data_base64")
            .is_some()
    );
    structured(&js, &e).await;
    // Structured, no `datacontenttype`.
    let mut e = event("ce-no-type", |b, _| b);
    e.set_data_unchecked(json!({"title": "Baku talks ce-no-type"}));
    assert!(
        serde_json::to_value(&e)
            .unwrap()
            .get("datacontenttype")
            .is_none()
    );
    structured(&js, &e).await;
    // Binary: ce-* headers, the article as the body.
    binary(
        &js,
        event("ce-binary", |b, a| b.data("application/json", a)),
    )
    .await;
    // Batch: three events, the middle one without a title.
    let batch = vec![
        event("ce-batch-1", |b, a| b.data("application/json", a)),
        event("ce-batch-2", |b, _| {
            b.data("application/json", json!({"body": "no title"}))
        }),
        event("ce-batch-3", |b, a| {
            b.data("application/json", serde_json::to_vec(&a).unwrap())
        }),
    ];
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/cloudevents-batch+json");
    send(&js, headers, serde_json::to_vec(&batch).unwrap()).await;
    // Malformed: data_base64 that is not base64; binary data that is not JSON.
    let mut bad = serde_json::to_value(event("ce-bad-base64", |b, a| {
        b.data("application/json", serde_json::to_vec(&a).unwrap())
    }))
    .unwrap();
    bad["data_base64"] = json!("not base64!");
    send(&js, HeaderMap::new(), serde_json::to_vec(&bad).unwrap()).await;
    binary(
        &js,
        event("ce-text", |b, _| b.data("text/plain", "Baku talks")),
    )
    .await;

    let sent = telegram.wait_for(6, Duration::from_secs(20)).await;
    let mut delivered: Vec<String> = sent
        .iter()
        .filter(|m| m.chat_id == -1001)
        .filter_map(|m| {
            let at = m.text.find("ce-")?;
            Some(
                m.text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect(),
            )
        })
        .collect();
    delivered.sort();
    assert_eq!(
        delivered,
        [
            "ce-base64",
            "ce-batch-1",
            "ce-batch-3",
            "ce-binary",
            "ce-json",
            "ce-no-type"
        ],
        "{sent:#?}"
    );
    // The envelope's time stood in for published_at.
    assert!(sent[0].text.contains("2025-10-25"), "{}", sent[0].text);

    let letters = wait_for_dead_letters(&js, 3).await;
    let reasons: Vec<&str> = letters.iter().map(|l| l.reason.as_str()).collect();
    assert_eq!(letters.len(), 3, "{letters:#?}");
    assert!(
        reasons
            .contains(&"batch element 1: article \"ce-batch-2\": missing required field `title`"),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("`data_base64` is not base64")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("content-type") && r.contains("text/plain")),
        "{reasons:?}"
    );
    // The batch's bad element is dead-lettered alone, as a structured event.
    let element = letters
        .iter()
        .find(|l| l.reason.starts_with("batch element 1"))
        .unwrap();
    let element: Value = serde_json::from_str(&element.payload).unwrap();
    assert_eq!(element["id"], "ce-batch-2");
    app.stop().await;
}
