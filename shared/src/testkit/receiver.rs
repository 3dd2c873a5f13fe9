//! A webhook receiver on 127.0.0.1 for tests: answers from a script
//! (status, Retry-After, delay; 200 once the script runs out) and keeps
//! every request it got.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// One scripted answer.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply { status, ..Default::default() }
    }
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    script: Mutex<VecDeque<Reply>>,
    got: Mutex<Vec<Received>>,
}

pub struct Receiver {
    /// `http://127.0.0.1:{port}/hook`.
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(script: Vec<Reply>) -> Receiver {
        let inner = Arc::new(Inner { script: Mutex::new(script.into()), got: Mutex::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
        let port = listener.local_addr().expect("a local address").port();
        let app = axum::Router::new().route("/hook", axum::routing::post(take)).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), inner, task }
    }

    /// Every request so far, in order.
    pub fn got(&self) -> Vec<Received> {
        self.inner.got.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn take(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let headers =
        headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string())).collect();
    if let Ok(mut g) = inner.got.lock() {
        g.push(Received { headers, body: body.to_vec() });
    }
    let reply = inner.script.lock().ok().and_then(|mut s| s.pop_front()).unwrap_or(Reply::status(200));
    tokio::time::sleep(reply.delay).await;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match reply.retry_after {
        Some(s) => (status, [("retry-after", s.to_string())]).into_response(),
        None => status.into_response(),
    }
}
