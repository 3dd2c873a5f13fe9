//! `Queue` cases: delivery, visibility timeout and dead-letter redrive. SQS
//! works in whole seconds, so timeouts are 1-2 s and waits leave a margin.

use std::time::Duration;

use crate::ports::queue::{MAX_RECEIVES, Message, Queue};

const LONG: Duration = Duration::from_secs(30);

/// Receives until `want` messages arrived or a few tries came back short
/// (SQS may return fewer than are visible).
async fn receive_up_to(q: &dyn Queue, want: usize, visibility: Duration) -> Vec<Message> {
    let mut got = Vec::new();
    for _ in 0..5 {
        got.extend(q.receive(want - got.len(), visibility).await.expect("receive"));
        if got.len() >= want {
            break;
        }
    }
    got
}

async fn receive_one(q: &dyn Queue, visibility: Duration) -> Message {
    let mut got = receive_up_to(q, 1, visibility).await;
    assert_eq!(got.len(), 1, "one message expected");
    got.remove(0)
}

async fn assert_nothing_visible(q: &dyn Queue) {
    let got = q.receive(10, LONG).await.expect("receive");
    assert!(got.is_empty(), "nothing should be visible: {got:?}");
}

pub async fn send_receive_delete(q: &dyn Queue) {
    q.send("hello".into()).await.expect("send");
    let msg = receive_one(q, Duration::from_secs(1)).await;
    assert_eq!((msg.body.as_str(), msg.receive_count), ("hello", 1));
    q.delete(&msg.receipt).await.expect("delete");
    q.delete(&msg.receipt).await.expect("deleting twice is fine");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_nothing_visible(q).await;
    assert_eq!(q.dead_letter_count().await.expect("dlq count"), 0);
}

pub async fn delete_many_deletes_each(q: &dyn Queue) {
    for i in 0..3 {
        q.send(format!("m{i}")).await.expect("send");
    }
    let got = receive_up_to(q, 3, Duration::from_secs(1)).await;
    assert_eq!(got.len(), 3, "three messages expected: {got:?}");
    q.delete(&got[0].receipt).await.expect("delete");
    let receipts: Vec<String> = got.iter().map(|m| m.receipt.clone()).collect();
    q.delete_many(&receipts).await.expect("delete_many, one of them already deleted");
    q.delete_many(&[]).await.expect("deleting none is fine");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_nothing_visible(q).await;
}

pub async fn receive_respects_max(q: &dyn Queue) {
    for i in 0..3 {
        q.send(format!("m{i}")).await.expect("send");
    }
    let first = q.receive(2, LONG).await.expect("receive");
    assert!(!first.is_empty() && first.len() <= 2, "between 1 and 2 messages: {first:?}");
    let rest = receive_up_to(q, 3 - first.len(), LONG).await;
    let mut bodies: Vec<String> = first.iter().chain(&rest).map(|m| m.body.clone()).collect();
    bodies.sort();
    assert_eq!(bodies, ["m0", "m1", "m2"], "each message once");
    assert_nothing_visible(q).await;
}

pub async fn invisible_until_timeout(q: &dyn Queue) {
    q.send("work".into()).await.expect("send");
    let first = receive_one(q, Duration::from_secs(2)).await;
    assert_eq!(first.receive_count, 1);
    assert_nothing_visible(q).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let again = receive_one(q, LONG).await;
    assert_eq!((again.id.as_str(), again.body.as_str()), (first.id.as_str(), "work"));
    assert_eq!(again.receive_count, 2);
    assert_ne!(again.receipt, first.receipt, "every receive gets a new receipt");
    q.delete(&again.receipt).await.expect("delete");
}

pub async fn redrive_after_max_receives(q: &dyn Queue) {
    q.send("poison".into()).await.expect("send");
    for n in 1..=MAX_RECEIVES {
        // A zero timeout makes the message visible again at once.
        let msg = receive_one(q, Duration::ZERO).await;
        assert_eq!(msg.receive_count, n);
    }
    let after = q.receive(10, LONG).await.expect("receive");
    assert!(after.is_empty(), "a message received {MAX_RECEIVES} times is not delivered again: {after:?}");
    let mut dead = 0;
    for _ in 0..10 {
        // Approximate on SQS: give it a moment to settle.
        dead = q.dead_letter_count().await.expect("dlq count");
        if dead == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(dead, 1, "the message went to the dead-letter queue");
    assert_nothing_visible(q).await;
}
