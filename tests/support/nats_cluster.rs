//! A three-node JetStream cluster on loopback: each node a real
//! `nats-server` ([`NatsServer`], random client port, its own store
//! directory) with a `cluster` block routing to the others, as in
//! `deploy/nats-cluster/`. Nodes are named `n1`..`n3`, can be SIGKILLed
//! one by one, and are killed on `Drop`.

use super::nats::NatsServer;
use async_nats::jetstream::{self, stream};
use std::time::{Duration, Instant};

pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Start `size` nodes and wait until JetStream can place a stream on
    /// all of them (a meta leader is elected and every node is a peer).
    ///
    /// # Panics
    /// A node does not start, or the cluster does not form in 60 s.
    pub async fn start(size: usize) -> NatsCluster {
        let routes: Vec<u16> = (0..size).map(|_| super::free_port()).collect();
        let route_list = routes
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        let nodes = routes
            .iter()
            .enumerate()
            .map(|(i, port)| {
                NatsServer::start_with_config(&format!(
                    "server_name: n{}\ncluster {{\n  name: scale\n  listen: \"127.0.0.1:{port}\"\n  routes: [{route_list}]\n}}\n",
                    i + 1
                ))
            })
            .collect();
        let cluster = NatsCluster { nodes };
        cluster.wait_for_jetstream(size).await;
        cluster
    }

    /// Every node's URL, comma-separated (for `nats.url`).
    pub fn urls(&self) -> String {
        let urls: Vec<String> = self.nodes.iter().map(NatsServer::url).collect();
        urls.join(",")
    }

    /// A client that fails over between the nodes.
    pub async fn client(&self) -> async_nats::Client {
        async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(
                self.nodes
                    .iter()
                    .map(|n| n.url().parse().expect("a server address"))
                    .collect::<Vec<async_nats::ServerAddr>>(),
            )
            .await
            .expect("connect to the cluster")
    }

    /// The node (`n1`..) leading `stream`, if one does.
    pub async fn stream_leader(&self, client: &async_nats::Client, stream: &str) -> Option<String> {
        let subject = format!("$JS.API.STREAM.INFO.{stream}");
        let answer = tokio::time::timeout(
            Duration::from_secs(2),
            client.request(subject, bytes::Bytes::new()),
        )
        .await
        .ok()?
        .ok()?;
        let info: serde_json::Value = serde_json::from_slice(&answer.payload).ok()?;
        info["cluster"]["leader"].as_str().map(str::to_string)
    }

    /// SIGKILL node `name` (`n1`..).
    pub fn kill(&mut self, name: &str) {
        let i: usize = name.trim_start_matches('n').parse().expect("a node name");
        self.nodes[i - 1].kill();
    }

    async fn wait_for_jetstream(&self, size: usize) {
        let js = jetstream::new(self.client().await);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::new();
        while Instant::now() < deadline {
            let created = js
                .create_stream(stream::Config {
                    name: "CLUSTER_READY".into(),
                    subjects: vec!["cluster.ready".into()],
                    num_replicas: size,
                    ..Default::default()
                })
                .await;
            match created {
                Ok(_) => {
                    let _ = js.delete_stream("CLUSTER_READY").await;
                    return;
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let logs: Vec<String> = self.nodes.iter().map(NatsServer::log).collect();
        panic!("the cluster did not form: {last}\n{}", logs.join("\n---\n"));
    }
}
