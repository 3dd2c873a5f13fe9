use std::time::Duration;

use super::*;
use crate::testkit::receiver::{Receiver, Reply};

fn outgoing(url: &str) -> Outgoing {
    Outgoing {
        url: url.into(),
        headers: vec![("webhook-id".into(), "e1".into())],
        body: b"{}".to_vec(),
        timeout: Duration::from_secs(5),
    }
}

fn refused(r: Result<(), SendError>) -> bool {
    matches!(r, Err(SendError::Refused(_)))
}

#[tokio::test]
async fn addresses_inside_the_network_are_refused_unless_allowed() {
    let strict = HttpSender::new(false);
    let local = HttpSender::new(true);
    for url in [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://localhost/hook",
        "https://192.168.0.10:8443/hook",
    ] {
        assert!(refused(strict.check(url).await), "{url} must be refused");
        assert!(local.check(url).await.is_ok(), "{url} must be allowed with private addresses on");
    }
    // And at delivery: nothing is sent.
    assert!(matches!(strict.post(outgoing("https://127.0.0.1:9/hook")).await, Err(SendError::Refused(_))));
}

#[tokio::test]
async fn only_https_unless_private_addresses_are_allowed_and_never_other_schemes() {
    let strict = HttpSender::new(false);
    let local = HttpSender::new(true);
    assert!(refused(strict.check("http://93.184.216.34/hook").await));
    assert!(local.check("http://127.0.0.1/hook").await.is_ok());
    for url in ["ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/", "not a url", "data:text/plain,hi"] {
        assert!(refused(local.check(url).await), "{url}");
    }
    for url in ["https://0.0.0.0/hook", "https://[::]/hook", "https://224.0.0.1/hook"] {
        assert!(refused(local.check(url).await), "{url} is never a receiver");
    }
}

#[tokio::test]
async fn posts_to_a_local_receiver_and_reports_status_and_retry_after() {
    let r = Receiver::start(vec![Reply { status: 429, retry_after: Some(120), ..Default::default() }]).await;
    let s = HttpSender::new(true);
    let a = s.post(outgoing(&r.url)).await.unwrap();
    assert_eq!(a, Answer { status: 429, retry_after: Some(120) });
    let a = s.post(outgoing(&r.url)).await.unwrap();
    assert_eq!(a, Answer { status: 200, retry_after: None });
    let got = r.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].headers["webhook-id"], "e1");
    assert_eq!(got[0].body, b"{}");
}

#[tokio::test]
async fn redirects_are_not_followed_and_slow_receivers_time_out() {
    let r = Receiver::start(vec![
        Reply::status(307),
        Reply { status: 200, delay: Duration::from_secs(3), ..Default::default() },
    ])
    .await;
    let s = HttpSender::new(true);
    assert_eq!(s.post(outgoing(&r.url)).await.unwrap().status, 307);
    let mut slow = outgoing(&r.url);
    slow.timeout = Duration::from_millis(300);
    match s.post(slow).await {
        Err(SendError::Failed(why)) => assert!(why.contains("timed out"), "{why}"),
        other => panic!("{other:?}"),
    }
}
