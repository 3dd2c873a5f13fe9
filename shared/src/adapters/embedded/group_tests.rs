//! Group commit under concurrency: every request keeps its own
//! all-or-nothing outcome and sees the requests committed before it.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::ports::clock::OffsetClock;
use crate::ports::records::{Change, Cond, Key, RecordError, Write};
use crate::ports::{Queue, Records};
use crate::testkit::item;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_item_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_embedded(dir.path(), Arc::new(OffsetClock::default())).unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let records = e.records.clone();
            tokio::spawn(async move {
                let it = item(json!({"pk": "P", "sk": "S", "by": n}));
                (n, records.put(it, Some(Cond::NotExists)).await)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (n, Ok(())) => winners.push(n),
            (_, Err(RecordError::ConditionFailed { index: 0, current })) => losers.push(current),
            (_, other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create wins");
    let stored = e.records.get(&Key::new("P", "S")).await.unwrap().unwrap();
    assert_eq!(stored["by"], json!(winners[0]));
    assert_eq!(losers.len(), 99);
    assert!(losers.iter().all(|c| c.as_ref() == Some(&stored)), "losers see the winner's item");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_request_does_not_undo_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let mut sent = HashSet::new();
    {
        let e = open_embedded(dir.path(), Arc::new(OffsetClock::default())).unwrap();
        e.records.put(item(json!({"pk": "C", "sk": "C", "n": 0})), None).await.unwrap();
        let tasks: Vec<_> = (0..120)
            .map(|n: i64| {
                let (records, queue) = (e.records.clone(), e.fulfil.clone());
                tokio::spawn(async move {
                    // Odd requests carry a check that always fails: their own
                    // write and counter bump must vanish, nobody else's.
                    let gate = if n % 2 == 1 { Cond::Exists } else { Cond::NotExists };
                    let writes = vec![
                        Write::Put { item: item(json!({"pk": "W", "sk": format!("{n:03}")})), cond: None },
                        Write::Update {
                            key: Key::new("C", "C"),
                            changes: vec![Change::Add("n".into(), 1)],
                            cond: None,
                        },
                        Write::Check { key: Key::new("NONE", "NONE"), cond: gate },
                    ];
                    let result = records.transact(writes).await;
                    queue.send(format!("m{n}")).await.unwrap();
                    (n, result)
                })
            })
            .collect();
        for task in tasks {
            let (n, result) = task.await.unwrap();
            match result {
                Ok(()) => assert_eq!(n % 2, 0),
                Err(RecordError::ConditionFailed { index: 2, current: None }) => assert_eq!(n % 2, 1),
                other => panic!("unexpected {other:?} for {n}"),
            }
            sent.insert(format!("m{n}"));
        }
    }
    let e = open_embedded(dir.path(), Arc::new(OffsetClock::default())).unwrap();
    let counter = e.records.get(&Key::new("C", "C")).await.unwrap().unwrap();
    assert_eq!(counter["n"], json!(60), "only the accepted requests counted, and all survive a restart");
    for n in 0..120 {
        let written = e.records.get(&Key::new("W", format!("{n:03}"))).await.unwrap();
        assert_eq!(written.is_some(), n % 2 == 0, "write {n}");
    }
    let mut received = HashSet::new();
    loop {
        let batch = e.fulfil.receive(10, std::time::Duration::from_secs(60)).await.unwrap();
        if batch.is_empty() {
            break;
        }
        received.extend(batch.into_iter().map(|m| m.body));
    }
    assert_eq!(received, sent, "every sent message is there once the send returned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_writers_load_counts_each_request_once_and_each_commit() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_embedded(dir.path(), Arc::new(OffsetClock::default())).unwrap();
    let before = e.records.writer_load();
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let records = e.records.clone();
            // Every fifth is refused: it still rode in a commit.
            let cond = (n % 5 == 0).then_some(Cond::Exists);
            tokio::spawn(async move { records.put(item(json!({"pk": "L", "sk": format!("{n:03}")})), cond).await })
        })
        .collect();
    let mut refused = 0;
    for task in tasks {
        refused += usize::from(task.await.unwrap().is_err());
    }
    e.fulfil.send("one".into()).await.unwrap();
    let after = e.records.writer_load();
    assert_eq!(refused, 20);
    assert_eq!(after.requests - before.requests, 101, "{after:?}");
    let commits = after.commits - before.commits;
    assert!((2..=101).contains(&commits), "{commits}");
    assert!(after.committing > before.committing && after.committing <= after.busy, "{after:?}");
}
