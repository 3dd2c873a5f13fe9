//! `Records` cases: queries, the secondary index, pagination and
//! concurrent writers.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{item, join_all};
use crate::ports::records::{Change, Cond, Index, Key, Query, RecordError, Records, SkRange};

fn sks(items: &[crate::ports::Item], attr: &str) -> Vec<String> {
    items.iter().map(|i| i.get(attr).and_then(Value::as_str).unwrap_or_default().to_string()).collect()
}

async fn query_all(r: &dyn Records, q: Query, attr: &str) -> Vec<String> {
    sks(&r.query(q).await.expect("query").items, attr)
}

/// Follows cursors to the end, checking every page keeps to the limit.
async fn collect_pages(r: &dyn Records, q: Query, attr: &str) -> (Vec<String>, usize) {
    let (mut all, mut pages, mut cursor) = (Vec::new(), 0, None);
    loop {
        let page = r.query(q.clone().after(cursor)).await.expect("query page");
        assert!(page.items.len() <= q.limit, "page larger than the limit");
        all.extend(sks(&page.items, attr));
        pages += 1;
        assert!(pages <= 50, "pagination does not end");
        cursor = page.next;
        if cursor.is_none() {
            return (all, pages);
        }
    }
}

async fn seed(r: &dyn Records) {
    for sk in ["ORDER#001", "ORDER#002", "ORDER#003", "ORDER#004", "ORDER#005", "SUB#1", "SUB#2"] {
        r.put(item(json!({"pk": "USER#1", "sk": sk})), None).await.expect("seed");
    }
    for sk in ["ORDER#000", "ORDER#006"] {
        r.put(item(json!({"pk": "USER#2", "sk": sk})), None).await.expect("seed other partition");
    }
}

pub async fn query_prefix_between_descending(r: &dyn Records) {
    seed(r).await;
    let q = || Query::new(Index::Table, "USER#1");
    let orders = query_all(r, q().sk(SkRange::Prefix("ORDER#".into())), "sk").await;
    assert_eq!(orders, ["ORDER#001", "ORDER#002", "ORDER#003", "ORDER#004", "ORDER#005"]);
    let between = query_all(r, q().sk(SkRange::Between("ORDER#002".into(), "ORDER#004".into())), "sk").await;
    assert_eq!(between, ["ORDER#002", "ORDER#003", "ORDER#004"], "between is inclusive");
    let all = query_all(r, q(), "sk").await;
    assert_eq!(all.len(), 7);
    let newest = query_all(r, q().sk(SkRange::Prefix("ORDER#".into())).descending().limit(2), "sk").await;
    assert_eq!(newest, ["ORDER#005", "ORDER#004"]);
    let subs = query_all(r, q().sk(SkRange::Prefix("SUB#".into())).descending(), "sk").await;
    assert_eq!(subs, ["SUB#2", "SUB#1"]);
    assert!(query_all(r, Query::new(Index::Table, "USER#9"), "sk").await.is_empty());
}

pub async fn query_paginates(r: &dyn Records) {
    seed(r).await;
    let q = Query::new(Index::Table, "USER#1").limit(2);
    let (all, pages) = collect_pages(r, q.clone(), "sk").await;
    let expected = ["ORDER#001", "ORDER#002", "ORDER#003", "ORDER#004", "ORDER#005", "SUB#1", "SUB#2"];
    assert_eq!(all, expected, "every item once, in order");
    assert!(pages >= 4, "7 items at 2 a page take at least 4 pages, got {pages}");
    let (desc, _) = collect_pages(r, q.clone().descending(), "sk").await;
    let reversed: Vec<&str> = expected.iter().rev().copied().collect();
    assert_eq!(desc, reversed);
    let (orders, _) = collect_pages(r, q.clone().sk(SkRange::Prefix("ORDER#".into())), "sk").await;
    assert_eq!(orders, expected[..5]);
    let range = SkRange::Between("ORDER#002".into(), "SUB#1".into());
    let (between, _) = collect_pages(r, q.sk(range).descending(), "sk").await;
    assert_eq!(between, ["SUB#1", "ORDER#005", "ORDER#004", "ORDER#003", "ORDER#002"]);
}

pub async fn gsi_query_and_leaving_the_index(r: &dyn Records) {
    for (sk, at) in [("ORDER#b", "2024-02"), ("ORDER#a", "2024-01"), ("ORDER#c", "2024-03")] {
        let order = json!({"pk": format!("O#{sk}"), "sk": sk, "gsi1pk": "EMAIL#a@x.io", "gsi1sk": at, "n": 1});
        r.put(item(order), None).await.expect("put indexed");
    }
    r.put(item(json!({"pk": "O#other", "sk": "X", "gsi1pk": "EMAIL#b@x.io", "gsi1sk": "2024-01"})), None)
        .await
        .expect("put other");
    r.put(item(json!({"pk": "O#half", "sk": "X", "gsi1pk": "EMAIL#a@x.io"})), None).await.expect("half indexed");
    let q = || Query::new(Index::Gsi1, "EMAIL#a@x.io");
    assert_eq!(query_all(r, q(), "sk").await, ["ORDER#a", "ORDER#b", "ORDER#c"], "needs both index attributes");
    let page = r.query(q().sk(SkRange::Prefix("2024-0".into())).descending().limit(2)).await.expect("query");
    assert_eq!(sks(&page.items, "gsi1sk"), ["2024-03", "2024-02"]);
    assert_eq!(page.items[0].get("n"), Some(&json!(1)), "index queries return whole items");
    let (paged, _) = collect_pages(r, q().limit(1), "sk").await;
    assert_eq!(paged, ["ORDER#a", "ORDER#b", "ORDER#c"]);
    let between = query_all(r, q().sk(SkRange::Between("2024-02".into(), "2024-03".into())), "sk").await;
    assert_eq!(between, ["ORDER#b", "ORDER#c"]);

    let b = Key::new("O#ORDER#b", "ORDER#b");
    r.update(&b, vec![Change::Remove("gsi1pk".into())], None).await.expect("leave index");
    assert_eq!(query_all(r, q(), "sk").await, ["ORDER#a", "ORDER#c"]);
    let a = Key::new("O#ORDER#a", "ORDER#a");
    r.update(&a, vec![Change::Set("gsi1sk".into(), json!("2024-09"))], None).await.expect("move in index");
    assert_eq!(query_all(r, q(), "sk").await, ["ORDER#c", "ORDER#a"]);
    r.delete(&a, None).await.expect("delete");
    assert_eq!(query_all(r, q(), "sk").await, ["ORDER#c"]);

    // A put over an item moves or drops its index entry, as an update does.
    let c = json!({"pk": "O#ORDER#c", "sk": "ORDER#c", "gsi1pk": "EMAIL#a@x.io", "gsi1sk": "2024-10"});
    r.put(item(c), None).await.expect("put over, moved in index");
    let half = json!({"pk": "O#half", "sk": "X", "gsi1pk": "EMAIL#a@x.io", "gsi1sk": "2024-11"});
    r.put(item(half), Some(Cond::Exists)).await.expect("put over, now indexed");
    assert_eq!(query_all(r, q(), "sk").await, ["ORDER#c", "X"]);
    r.put(item(json!({"pk": "O#ORDER#c", "sk": "ORDER#c"})), None).await.expect("put over, out of the index");
    assert_eq!(query_all(r, q(), "sk").await, ["X"]);
}

pub async fn gsi_paginates_equal_sort_keys(r: &dyn Records) {
    for i in 0..5 {
        let held = json!({"pk": format!("HOLD#{i}"), "sk": "H", "gsi1pk": "HOLDS", "gsi1sk": "same"});
        r.put(item(held), None).await.expect("put");
    }
    let (all, _) = collect_pages(r, Query::new(Index::Gsi1, "HOLDS").limit(2), "pk").await;
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 5, "no duplicates or gaps: {all:?}");
    assert_eq!(unique.len(), 5);
}

pub async fn concurrent_conditional_puts_one_wins(r: &dyn Records) {
    let puts = (0..20).map(|i| r.put(item(json!({"pk": "RACE", "sk": "R", "writer": i})), Some(Cond::NotExists)));
    let results = join_all(puts.collect()).await;
    let winners: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "exactly one put wins: {results:?}");
    for result in &results {
        assert!(
            matches!(result, Ok(()) | Err(RecordError::ConditionFailed { index: 0, .. })),
            "losers fail their condition: {result:?}"
        );
    }
    let stored = r.get(&Key::new("RACE", "R")).await.expect("get").expect("winner stored");
    assert_eq!(stored.get("writer"), Some(&json!(winners[0])));
}

pub async fn concurrent_adds_sum_exactly(r: &dyn Records) {
    let k = Key::new("COUNTER", "C");
    let adds = (0..20).map(|_| r.update(&k, vec![Change::Add("n".into(), 1)], None));
    let results = join_all(adds.collect()).await;
    let mut seen: Vec<i64> =
        results.into_iter().map(|r| r.expect("add").get("n").and_then(Value::as_i64).expect("n is a number")).collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<i64>>(), "each add sees its own total");
    let stored = r.get(&k).await.expect("get").expect("counter");
    assert_eq!(stored.get("n"), Some(&json!(20)));
}

/// DynamoDB refuses empty strings in key conditions and reversed ranges:
/// every backend must, so code that works locally works on AWS.
pub async fn bad_ranges_are_invalid(r: &dyn Records) {
    let q = || Query::new(Index::Table, "P");
    for range in [
        SkRange::Between(String::new(), "b".into()),
        SkRange::Between("a".into(), String::new()),
        SkRange::Between("b".into(), "a".into()),
    ] {
        let res = r.query(q().sk(range.clone())).await;
        assert!(matches!(res, Err(RecordError::Invalid(_))), "{range:?}: {res:?}");
    }
}
