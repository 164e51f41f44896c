//! A feed publisher on a random loopback port, for `newsalert feeds`:
//! each path answers as a [`Route`] says (a fixture from
//! `tests/fixtures/feeds/`, a 304-capable feed, a gzipped body, an HTTP
//! error, a redirect loop, an endless body, a server that never answers),
//! and every request is recorded (path, status, conditional headers, when
//! it started and ended). Runs on its own runtime thread.

use super::BackgroundRuntime;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a path answers.
#[derive(Debug, Clone)]
pub enum Route {
    /// 200 with this body and content type.
    Body(String, &'static str),
    /// 200 with `ETag` and `Last-Modified`; 304 when the request carries
    /// the ETag in `If-None-Match`.
    Conditional { body: String, etag: String },
    /// 200, the body gzip-compressed (`Content-Encoding: gzip`).
    Gzip(String),
    /// This status, empty body.
    Status(u16),
    /// 302 to this path.
    Redirect(String),
    /// 200 with a body of this many bytes, streamed 64 KiB at a time.
    Huge(usize),
    /// Answers after this long.
    Slow(Duration),
}

impl Route {
    /// A fixture from `tests/fixtures/feeds/`, served as is.
    pub fn fixture(name: &str) -> Route {
        let content_type = if name.ends_with(".json") {
            "application/feed+json"
        } else {
            "application/rss+xml; charset=utf-8"
        };
        Route::Body(fixture(name), content_type)
    }
}

/// The text of fixture `name`.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/feeds")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub status: u16,
    pub if_none_match: Option<String>,
    pub accept_encoding: Option<String>,
    pub started: Instant,
    pub ended: Instant,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    requests: Vec<Request>,
}

pub struct FeedServer {
    port: u16,
    state: Arc<Mutex<State>>,
    /// Bytes of `Huge` bodies handed to the connection so far.
    huge_bytes: Arc<AtomicUsize>,
    _runtime: BackgroundRuntime,
}

impl FeedServer {
    /// Start the server with `routes`; returns once it accepts connections.
    pub fn start(routes: &[(&str, Route)]) -> FeedServer {
        let runtime = BackgroundRuntime::start("feed-server");
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind feed server");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let port = listener.local_addr().expect("local_addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let huge_bytes = Arc::new(AtomicUsize::new(0));
        let app = Router::new().fallback({
            let (state, huge) = (state.clone(), huge_bytes.clone());
            move |uri: Uri, headers: HeaderMap| {
                let (state, huge) = (state.clone(), huge.clone());
                async move { handle(&state, &huge, &uri, &headers).await }
            }
        });
        runtime.handle().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, app).await.expect("feed server");
        });
        let server = FeedServer {
            port,
            state,
            huge_bytes,
            _runtime: runtime,
        };
        for (path, route) in routes {
            server.route(path, route.clone());
        }
        server
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Set (or replace) how `path` answers.
    pub fn route(&self, path: &str, route: Route) {
        self.lock().routes.insert(path.to_string(), route);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// Requests to `path` so far.
    pub fn count(&self, path: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Requests to `path` answered `status`.
    pub fn count_status(&self, path: &str, status: u16) -> usize {
        let state = self.lock();
        state
            .requests
            .iter()
            .filter(|r| r.path == path && r.status == status)
            .count()
    }

    /// Bytes of endless bodies the client took before it hung up.
    pub fn huge_bytes_sent(&self) -> usize {
        self.huge_bytes.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

const LAST_MODIFIED: &str = "Sat, 25 Oct 2025 09:12:00 GMT";

async fn handle(
    state: &Mutex<State>,
    huge: &Arc<AtomicUsize>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let started = Instant::now();
    let path = uri.path().to_string();
    let route = state.lock().unwrap().routes.get(&path).cloned();
    let record_path = path.clone();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let if_none_match = text(header::IF_NONE_MATCH);
    // Recorded on arrival (status 0 until answered): a client that gives
    // up drops this handler midway.
    let index = {
        let mut state = state.lock().unwrap();
        state.requests.push(Request {
            path: record_path,
            status: 0,
            if_none_match: if_none_match.clone(),
            accept_encoding: text(header::ACCEPT_ENCODING),
            started,
            ended: started,
        });
        state.requests.len() - 1
    };
    let response = match route {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Route::Body(body, content_type)) => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Some(Route::Conditional { body, etag }) => {
            if if_none_match.as_deref() == Some(etag.as_str()) {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                let h = [
                    (header::CONTENT_TYPE, "application/atom+xml".to_string()),
                    (header::ETAG, etag),
                    (header::LAST_MODIFIED, LAST_MODIFIED.to_string()),
                ];
                (h, body).into_response()
            }
        }
        Some(Route::Gzip(body)) => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(body.as_bytes()).unwrap();
            let h = [
                (header::CONTENT_TYPE, "application/rss+xml"),
                (header::CONTENT_ENCODING, "gzip"),
            ];
            (h, gz.finish().unwrap()).into_response()
        }
        Some(Route::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Route::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Some(Route::Huge(total)) => {
            let huge = huge.clone();
            let chunks = futures::stream::unfold(0usize, move |sent| {
                let huge = huge.clone();
                async move {
                    if sent >= total {
                        return None;
                    }
                    let n = (total - sent).min(64 * 1024);
                    let chunk = if sent == 0 {
                        let mut c = b"<rss version=\"2.0\"><channel><title>".to_vec();
                        c.resize(n, b'x');
                        c
                    } else {
                        vec![b'x'; n]
                    };
                    huge.fetch_add(n, Ordering::Relaxed);
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)), sent + n))
                }
            });
            (
                [(header::CONTENT_TYPE, "application/rss+xml")],
                Body::from_stream(chunks),
            )
                .into_response()
        }
        Some(Route::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            fixture("rss2-cdata.xml").into_response()
        }
    };
    let mut state = state.lock().unwrap();
    let request = &mut state.requests[index];
    request.status = response.status().as_u16();
    request.ended = Instant::now();
    drop(state);
    response
}
