//! Our signatures against the published `standardwebhooks` Python library
//! (PyPI), run from ./.venv (scripts/venv.sh). Without it the test fails
//! under CI=true and is skipped with a notice otherwise.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use shared::domain::Timestamp;
use shared::services::hooks::sign;

/// The library's verifier: prints "ok" or the error it raised.
const VERIFY: &str = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
req = json.load(sys.stdin)
try:
    Webhook(req["secret"]).verify(req["body"].encode(), req["headers"])
    print("ok")
except Exception as e:
    print(type(e).__name__)
"#;

fn python() -> Option<PathBuf> {
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python3");
    let usable = py.exists()
        && Command::new(&py).args(["-c", "import standardwebhooks"]).output().is_ok_and(|o| o.status.success());
    if usable {
        return Some(py);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but ./.venv has no standardwebhooks: run scripts/venv.sh");
    }
    eprintln!("notice: ./.venv with standardwebhooks not found, Python check skipped (scripts/venv.sh)");
    None
}

fn verify(py: &PathBuf, secret: &str, id: &str, ts: i64, signature: &str, body: &str) -> String {
    let req = serde_json::json!({
        "secret": secret,
        "body": body,
        "headers": {"webhook-id": id, "webhook-timestamp": ts.to_string(), "webhook-signature": signature},
    });
    let mut child =
        Command::new(py).args(["-c", VERIFY]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python");
    child.stdin.take().expect("stdin").write_all(req.to_string().as_bytes()).expect("write");
    let out = child.wait_with_output().expect("python ran");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_python_library_accepts_our_signatures_and_refuses_a_tampered_body() {
    let Some(py) = python() else { return };
    let (old, new) = (sign::new_secret(), sign::new_secret());
    let id = "01JEVENT0000000000000000ID";
    let ts = Timestamp::system_now().secs();
    let body = r#"{"type":"order.paid","timestamp":"2025-01-02T03:04:05Z","data":{"order_id":"o1","note":"ünïcode"}}"#;
    let both = sign::signature_header([new.as_str(), old.as_str()], id, ts, body.as_bytes()).unwrap();
    assert_eq!(verify(&py, &new, id, ts, &both, body), "ok");
    assert_eq!(verify(&py, &old, id, ts, &both, body), "ok", "the rotated-out secret still verifies");
    let tampered = body.replace("o1", "o2");
    assert_eq!(verify(&py, &new, id, ts, &both, &tampered), "WebhookVerificationError");
    assert_eq!(verify(&py, &sign::new_secret(), id, ts, &both, body), "WebhookVerificationError");
}
