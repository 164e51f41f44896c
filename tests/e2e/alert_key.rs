//! Alert keys stay distinct when article or subscriber ids contain `/`:
//! article `a/b` for subscriber `c` and article `a` for subscriber `b/c`
//! are two alerts (they once shared the key `a/b/c/telegram`, so the
//! second was dropped as a duplicate).

use crate::delivery::{Publisher, wait_drained};
use crate::support::nats::NatsServer;
use crate::support::telegram::FakeTelegram;
use crate::{config_dir, spawn_app};
use std::time::Duration;

const RULES: &str = r#"
[[subscriber]]
id = "c"
telegram_chat_id = 11

[[subscriber]]
id = "b/c"
telegram_chat_id = 12

[[rule]]
id = "alpha"
query = 'alpha'
notify = ["c"]

[[rule]]
id = "beta"
query = 'beta'
notify = ["b/c"]
"#;

#[tokio::test]
async fn ids_with_slashes_give_two_alerts_both_delivered() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let app = spawn_app(config_dir(&nats, Some(&telegram), None, RULES)).await;
    let publisher = Publisher::connect(&nats).await;
    for (id, title) in [("a/b", "alpha news"), ("a", "beta news")] {
        let event = serde_json::json!({"id": id, "title": title, "body": title, "language": "en"});
        publisher
            .raw("news.articles.test", id, event.to_string().into_bytes())
            .await;
    }
    telegram.wait_for(2, Duration::from_secs(15)).await;
    wait_drained(publisher.js(), Duration::from_secs(10)).await;
    let chats: Vec<i64> = telegram.sent().iter().map(|m| m.chat_id).collect();
    assert_eq!(chats.len(), 2, "{chats:?}");
    assert!(chats.contains(&11) && chats.contains(&12), "{chats:?}");
    app.stop().await;
}
