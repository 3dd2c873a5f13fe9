//! Just enough of the Lambda Runtime API (2018-06-01) to start one function
//! process, hand it one event and time it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

const PREFIX: &str = "/2018-06-01/runtime";
const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
/// Longer than any cold start; a hung function is a failure, not a figure.
const GIVE_UP: Duration = Duration::from_secs(60);

pub struct Timing {
    /// Process start to the first `next` call: the function's init.
    pub init: Duration,
    /// Process start to the first event's response (or error).
    pub answered: Duration,
    pub answer: Answer,
}

pub enum Answer {
    Response(String),
    Error(String),
    InitError(String),
}

impl Answer {
    /// The answer's status code (HTTP events) or its first bytes.
    pub fn summary(&self) -> String {
        match self {
            Answer::Response(body) => match serde_json::from_str::<Value>(body) {
                Ok(v) if v.get("statusCode").is_some() => format!("HTTP {}", v["statusCode"]),
                _ => body.chars().take(60).collect(),
            },
            Answer::Error(body) | Answer::InitError(body) => {
                format!("error: {}", body.chars().take(60).collect::<String>())
            }
        }
    }
}

enum Seen {
    Next(Instant),
    Done(Instant, Answer),
}

struct Api {
    event: String,
    served: AtomicBool,
    seen: mpsc::UnboundedSender<Seen>,
}

/// Starts `bin` as function `name` with `env` (and `extra`), serves it
/// `event`, and stops it once it has answered.
pub async fn start(
    bin: &Path,
    name: &str,
    env: &[(String, String)],
    extra: &[(&str, &str)],
    event: &Value,
) -> anyhow::Result<Timing> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let api = Arc::new(Api { event: event.to_string(), served: AtomicBool::new(false), seen: tx });
    let app = Router::new()
        .route(&format!("{PREFIX}/invocation/next"), get(next))
        .route(&format!("{PREFIX}/invocation/{{id}}/response"), post(response))
        .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
        .route(&format!("{PREFIX}/init/error"), post(init_error))
        .with_state(api);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let started = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let result = watch(&mut rx, &mut child, started).await;
    let _ = child.kill();
    let stderr = child.wait_with_output().map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).unwrap_or_default();
    server.abort();
    result.with_context(|| format!("{name}: {}", stderr.trim()))
}

async fn watch(rx: &mut mpsc::UnboundedReceiver<Seen>, child: &mut Child, started: Instant) -> anyhow::Result<Timing> {
    let mut init = None;
    loop {
        match tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            Ok(Some(Seen::Next(at))) => init = Some(at - started),
            Ok(Some(Seen::Done(at, answer))) => {
                let answered = at - started;
                return Ok(Timing { init: init.unwrap_or(answered), answered, answer });
            }
            Ok(None) => bail!("the runtime API stopped"),
            Err(_) => {
                if let Some(status) = child.try_wait()? {
                    bail!("exited with {status} before answering");
                }
                if started.elapsed() > GIVE_UP {
                    bail!("no answer within {GIVE_UP:?}");
                }
            }
        }
    }
}

/// The event once; later calls wait for ever (the process is stopped).
async fn next(State(api): State<Arc<Api>>) -> (HeaderMap, String) {
    if api.served.swap(true, Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let _ = api.seen.send(Seen::Next(Instant::now()));
    let deadline =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64 + 60_000);
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", REQUEST_ID.to_string()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench".into()),
        (
            "lambda-runtime-trace-id",
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into(),
        ),
        ("content-type", "application/json".into()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = v.parse() {
            headers.insert(k, v);
        }
    }
    (headers, api.event.clone())
}

async fn response(State(api): State<Arc<Api>>, body: String) -> StatusCode {
    done(&api, Answer::Response(body))
}

async fn error(State(api): State<Arc<Api>>, body: String) -> StatusCode {
    done(&api, Answer::Error(body))
}

async fn init_error(State(api): State<Arc<Api>>, body: String) -> StatusCode {
    done(&api, Answer::InitError(body))
}

fn done(api: &Api, answer: Answer) -> StatusCode {
    let _ = api.seen.send(Seen::Done(Instant::now(), answer));
    StatusCode::ACCEPTED
}
