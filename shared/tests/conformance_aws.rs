//! The port conformance suite on moto server, plus what only the AWS adapters
//! need checking (request counts, setup, config). Needs `--features aws` and
//! AWS_ENDPOINT_URL (`scripts/moto.sh start`); without it the tests fail
//! under CI=true and are skipped with a notice otherwise.
#![cfg(feature = "aws")]

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use serde_json::json;
use shared::adapters::aws::{
    AwsClients, AwsConfig, DynamoRecords, QueueRef, RequestCounter, S3Files, SqsQueue, connect_with,
    create_bucket_if_missing, create_queues_if_missing, create_table_if_missing,
};
use shared::ports::{Change, Cond, Files, Index, Key, Query, Queue, RecordError, Records, Write};
use shared::testkit::item;

/// The emulator's address, or None (with a notice) when the test is skipped.
fn endpoint() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match var("AWS_ENDPOINT_URL") {
        Some(url) => Some(url),
        None if var("CI").as_deref() == Some("true") => {
            panic!("AWS_ENDPOINT_URL is not set but CI=true: start moto (scripts/moto.sh start) and export it")
        }
        None => {
            eprintln!("notice: AWS_ENDPOINT_URL not set, AWS test skipped (scripts/moto.sh start)");
            None
        }
    }
}

/// Clients for the emulator; dummy credentials and us-east-1 unless set.
async fn clients() -> Option<AwsClients> {
    let url = endpoint()?;
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .endpoint_url(url)
        .http_client(shared::adapters::aws::https_client());
    let loader = match std::env::var("AWS_ACCESS_KEY_ID") {
        Ok(_) => loader,
        Err(_) => loader.credentials_provider(Credentials::new("test", "test", None, None, "moto")),
    };
    Some(AwsClients::new(&loader.load().await, true))
}

/// moto keeps state across tests: every test gets its own resources.
fn unique(kind: &str) -> String {
    format!("stockroom-{kind}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

async fn fresh_records() -> Option<(DynamoRecords, RequestCounter)> {
    let c = clients().await?;
    let table = unique("table");
    create_table_if_missing(&c.dynamodb, &table).await.expect("create table");
    let counter = RequestCounter::new();
    Some((DynamoRecords::new(c.dynamodb, table, counter.clone()), counter))
}

async fn fresh_files() -> Option<(S3Files, RequestCounter)> {
    let c = clients().await?;
    let bucket = unique("bucket");
    create_bucket_if_missing(&c.s3, &bucket).await.expect("create bucket");
    let counter = RequestCounter::new();
    Some((S3Files::new(c.s3, bucket, counter.clone()), counter))
}

async fn fresh_queue() -> Option<(SqsQueue, RequestCounter)> {
    let c = clients().await?;
    let urls = create_queues_if_missing(&c.sqs, &unique("queue")).await.expect("create queues");
    let counter = RequestCounter::new();
    Some((SqsQueue::with_dead_letter_queue(c.sqs, urls, counter.clone()), counter))
}

shared::records_conformance!(fresh_records());
shared::files_conformance!(fresh_files());
shared::queue_conformance!(fresh_queue());

fn counts(counter: &RequestCounter) -> Vec<(String, u64)> {
    counter.snapshot().into_iter().collect()
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

#[tokio::test]
async fn records_return_the_current_item_and_count_requests() {
    let Some((r, counter)) = fresh_records().await else { return };
    let stored = json!({"pk": "P", "sk": "S", "state": "paid", "n": 9_007_199_254_740_993_i64});
    r.put(item(stored.clone()), None).await.unwrap();
    match r.put(item(json!({"pk": "P", "sk": "S"})), Some(Cond::NotExists)).await {
        Err(RecordError::ConditionFailed { index: 0, current: Some(cur) }) => assert_eq!(json!(cur), stored),
        other => panic!("expected the current item, got {other:?}"),
    }
    let writes = vec![
        Write::Check { key: Key::new("P", "S"), cond: Cond::Exists },
        Write::Update { key: Key::new("P", "S"), changes: vec![], cond: None },
    ];
    assert!(matches!(r.transact(writes).await, Err(RecordError::Invalid(_))), "same key twice");
    let writes = vec![
        Write::Update { key: Key::new("P", "T"), changes: vec![], cond: None },
        Write::Update {
            key: Key::new("P", "S"),
            changes: vec![Change::Add("n".into(), 1)],
            cond: Some(Cond::eq("state", "new")),
        },
    ];
    match r.transact(writes).await {
        Err(RecordError::ConditionFailed { index: 1, current: Some(cur) }) => assert_eq!(json!(cur), stored),
        other => panic!("expected write 1 to fail with its item, got {other:?}"),
    }
    let writes = vec![Write::Update { key: Key::new("P", "T"), changes: vec![], cond: None }];
    r.transact(writes).await.expect("an update without changes creates the item");
    assert_eq!(json!(r.get(&Key::new("P", "T")).await.unwrap()), json!({"pk": "P", "sk": "T"}));
    let bare = r.update(&Key::new("P", "U"), vec![], None).await.expect("an empty update upserts");
    assert_eq!(json!(bare), json!({"pk": "P", "sk": "U"}));
    let page = r.query(Query::new(Index::Table, "P").limit(1)).await.unwrap();
    assert!(page.next.is_some());
    let bad = r.query(Query::new(Index::Table, "P").after(Some("garbage!".into()))).await;
    assert!(matches!(bad, Err(RecordError::Invalid(_))), "{bad:?}");
    assert_eq!(
        counts(&counter),
        pairs(&[
            ("dynamodb.GetItem", 1),
            ("dynamodb.PutItem", 2),
            ("dynamodb.Query", 1),
            ("dynamodb.TransactWriteItems", 2),
            ("dynamodb.UpdateItem", 1)
        ])
    );
}

#[tokio::test]
async fn table_setup_is_idempotent_and_enables_ttl() {
    let Some(c) = clients().await else { return };
    let table = unique("table");
    create_table_if_missing(&c.dynamodb, &table).await.unwrap();
    create_table_if_missing(&c.dynamodb, &table).await.expect("second call finds the table");
    let ttl = c.dynamodb.describe_time_to_live().table_name(&table).send().await.unwrap();
    let desc = ttl.time_to_live_description().expect("ttl description");
    assert_eq!(desc.attribute_name(), Some("ttl"));
    let described = c.dynamodb.describe_table().table_name(&table).send().await.unwrap();
    let indexes = described.table().map(|t| t.global_secondary_indexes()).unwrap_or_default();
    assert_eq!(indexes.iter().map(|i| i.index_name().unwrap_or_default()).collect::<Vec<_>>(), ["gsi1"]);
}

#[tokio::test]
async fn a_move_costs_two_requests_and_encodes_odd_keys() {
    let Some((f, counter)) = fresh_files().await else { return };
    f.put("unused/a b+c@x.session", vec![1, 2, 3], true).await.unwrap();
    counter.reset();
    f.move_file("unused/a b+c@x.session", "assigned/u+1@x.io/a b+c@x.session").await.unwrap();
    assert_eq!(counts(&counter), pairs(&[("s3.CopyObject", 1), ("s3.DeleteObject", 1)]));
    let meta = f.head("assigned/u+1@x.io/a b+c@x.session").await.unwrap().expect("moved");
    assert_eq!(meta.size, 3);
    assert!(f.list("unused/", None, 10).await.unwrap().keys.is_empty());
    let bad = f.put("../escape", vec![], false).await;
    assert!(matches!(bad, Err(shared::ports::FileError::InvalidKey(_))), "{bad:?}");
}

#[tokio::test]
async fn receive_loops_past_ten_and_counts_calls() {
    let Some((q, counter)) = fresh_queue().await else { return };
    for i in 0..23 {
        q.send(format!("m{i}")).await.unwrap();
    }
    counter.reset();
    let mut got = Vec::new();
    for _ in 0..5 {
        got.extend(q.receive(23 - got.len(), Duration::from_secs(30)).await.unwrap());
        if got.len() == 23 {
            break;
        }
    }
    assert_eq!(got.len(), 23);
    assert!(counter.get("sqs.ReceiveMessage") >= 3, "at most 10 a call: {:?}", counter.snapshot());
    assert!(got.iter().all(|m| m.receive_count == 1));
}

#[tokio::test]
async fn connect_creates_resources_and_finds_the_dead_letter_queue() {
    let Some(c) = clients().await else { return };
    let name = unique("fulfil");
    let cfg = AwsConfig {
        region: "us-east-1".into(),
        endpoint_url: None,
        s3_path_style: true,
        table: unique("table"),
        bucket: unique("bucket"),
        fulfil_queue: QueueRef::Name(name.clone()),
        events_queue: QueueRef::Name(format!("{name}-events")),
        create_resources: true,
    };
    let backend = connect_with(&cfg, c.clone()).await.expect("connect");
    backend.records.put(item(json!({"pk": "A", "sk": "B"})), None).await.unwrap();
    backend.files.put("unused/x.session", b"x".to_vec(), true).await.unwrap();
    backend.events.send("hello".into()).await.unwrap();
    let snap = backend.counter.snapshot();
    assert_eq!((snap["dynamodb.PutItem"], snap["s3.PutObject"], snap["sqs.SendMessage"]), (1, 1, 1));

    // Given only the URL, the queue finds its dead-letter queue itself.
    let by_url = SqsQueue::new(c.sqs.clone(), backend.fulfil.url(), RequestCounter::new());
    by_url.send("poison".into()).await.unwrap();
    for _ in 0..=shared::ports::queue::MAX_RECEIVES {
        by_url.receive(1, Duration::ZERO).await.unwrap();
    }
    assert_eq!(by_url.dead_letter_count().await.unwrap(), 1);
    assert_eq!(backend.fulfil.dead_letter_count().await.unwrap(), 1);

    let again = connect_with(&AwsConfig { create_resources: false, ..cfg }, c).await.expect("connect by name");
    assert_eq!(again.fulfil.url(), backend.fulfil.url());
}

#[tokio::test]
async fn latency_report() {
    let Some((r, counter)) = fresh_records().await else { return };
    for i in 0..20 {
        let k = Key::new("L", format!("{i:02}"));
        r.put(item(json!({"pk": k.pk, "sk": k.sk, "n": i})), Some(Cond::NotExists)).await.unwrap();
        r.get(&k).await.unwrap();
        r.update(&k, vec![Change::Add("n".into(), 1)], None).await.unwrap();
    }
    r.query(Query::new(Index::Table, "L")).await.unwrap();
    for (op, mean) in counter.mean_latency() {
        eprintln!("moto latency {op}: {mean:?} mean over {} calls", counter.get(&op));
    }
    assert_eq!(counter.get("dynamodb.UpdateItem"), 20);
}
