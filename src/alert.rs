//! An alert: one article for one subscriber on one channel, listing every
//! rule that matched. Its [`Alert::key`] is the idempotency key used for
//! dedup at every hand-off (the alert's `Nats-Msg-Id`, the sent log).

use crate::subscriber::Channel;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Where an alert goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    TelegramChat(i64),
    Email(String),
}

/// Header on an alert message: when its article was stored in the
/// articles stream (Unix nanoseconds), for the publish-to-delivery latency.
pub const ARTICLE_PUBLISHED: &str = "Newsalert-Article-Published";

/// The [`ARTICLE_PUBLISHED`] header for an article stored at `at`.
pub fn published_header(at: time::OffsetDateTime) -> async_nats::HeaderMap {
    let mut h = async_nats::HeaderMap::new();
    h.insert(
        ARTICLE_PUBLISHED,
        at.unix_timestamp_nanos().to_string().as_str(),
    );
    h
}

/// How long ago the article of an alert message with `headers` was
/// stored; `None` without (or with a malformed) [`ARTICLE_PUBLISHED`].
pub fn since_published(headers: Option<&async_nats::HeaderMap>) -> Option<std::time::Duration> {
    let nanos: i128 = headers?.get(ARTICLE_PUBLISHED)?.as_str().parse().ok()?;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    Some((time::OffsetDateTime::now_utc() - at).unsigned_abs())
}

/// What logs may show of a target: a chat id, or an address's domain only
/// (`email:***@example.org`).
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::TelegramChat(id) => write!(f, "telegram:{id}"),
            Target::Email(address) => write!(f, "email:***@{}", email_domain(address)),
        }
    }
}

/// The domain of `address` (empty if it has none).
pub fn email_domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// `text` with `address` masked to `***@domain` (remote error messages
/// quote the recipient; logs and dead letters must not).
pub fn mask_address(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_string();
    }
    text.replace(address, &format!("***@{}", email_domain(address)))
}

/// A span of the snippet to highlight (byte offsets into `Snippet::text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<(usize, usize)>,
}

/// The story an alert's article belongs to ([`crate::story`]): the same
/// `id` for every copy of one story, and the story's distinct sources when
/// this copy was routed (1 for the first copy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryRef {
    pub id: String,
    pub sources: usize,
}

/// One alert, ready for a notifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub article_id: String,
    pub subscriber: String,
    pub channel: Channel,
    pub target: Target,
    pub title: String,
    pub url: Option<String>,
    pub source: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    /// Ids of every rule that matched, in rule-file order.
    pub rules: Vec<String>,
    pub snippet: Option<Snippet>,
    /// `None` when story tracking is off (and in alerts queued before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<StoryRef>,
}

impl Alert {
    /// Stable idempotency key: the same article, subscriber and channel
    /// always give the same key, and different ones never do.
    ///
    /// `article/subscriber/channel`, with `%` and `/` inside the ids
    /// percent-encoded so that the separators are unambiguous. Ids without
    /// those two characters keep the key they always had, so existing sent
    /// logs stay valid.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            key_part(&self.article_id),
            key_part(&self.subscriber),
            self.channel
        )
    }
}

/// `id` with `%` and `/` percent-encoded (borrowed when it has neither).
pub fn key_part(id: &str) -> std::borrow::Cow<'_, str> {
    if id.contains(['%', '/']) {
        id.replace('%', "%25").replace('/', "%2F").into()
    } else {
        id.into()
    }
}

/// A Telegram alert of `article_id` for `subscriber` to chat 1 (rule `r`,
/// title `t`), for tests to adjust.
#[cfg(test)]
pub(crate) fn test_alert(article_id: &str, subscriber: &str) -> Alert {
    Alert {
        article_id: article_id.into(),
        subscriber: subscriber.into(),
        channel: Channel::Telegram,
        target: Target::TelegramChat(1),
        title: "t".into(),
        url: None,
        source: None,
        published_at: None,
        rules: vec!["r".into()],
        snippet: None,
        story: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(article_id: &str, subscriber: &str) -> Alert {
        test_alert(article_id, subscriber)
    }

    #[test]
    fn keys_of_plain_ids_are_unchanged() {
        assert_eq!(alert("a-1", "desk").key(), "a-1/desk/telegram");
        assert_eq!(
            alert("https:x.org?a=1", "ops desk").key(),
            "https:x.org?a=1/ops desk/telegram"
        );
    }

    #[test]
    fn ids_with_slashes_do_not_collide() {
        let pairs = [
            (("a/b", "c"), ("a", "b/c")),
            (("a%2Fb", "c"), ("a/b", "c")),
            (("a", "b%2Fc"), ("a", "b/c")),
            (("a%", "b"), ("a%25", "b")),
        ];
        for ((a1, s1), (a2, s2)) in pairs {
            assert_ne!(
                alert(a1, s1).key(),
                alert(a2, s2).key(),
                "({a1:?}, {s1:?}) vs ({a2:?}, {s2:?})"
            );
        }
        assert_eq!(alert("a/b", "c").key(), "a%2Fb/c/telegram");
    }
}
