use super::*;
use crate::testkit::counted::{Counted, counted_ctx};

fn raw(f: impl FnOnce(&mut RawQuery)) -> Result<LedgerQuery, ServiceError> {
    let mut r = RawQuery::default();
    f(&mut r);
    LedgerQuery::parse(r)
}

/// The `i`th entry (version `i + 1`, id `line{i + 1}`), as this version
/// books it (indexed by its reference).
fn entry(i: u64, kind: LedgerKind, reference: &str) -> LedgerEntry {
    crate::testkit::ledger::line(i + 1, kind, reference, Timestamp(1_700_000_000_000 + i as i64))
}

/// 60 entries, every sixth a sale: a kind filter reads at most
/// `SCAN_FACTOR` entries per entry a page may return, so pages come back
/// short, with a cursor, and the walk still finds every sale once; the
/// pages' summaries add up to the whole filter's.
#[tokio::test]
async fn a_sparse_filter_reads_a_bounded_page_and_walks_every_match() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = crate::testkit::stack::embedded_ctx(dir.path());
    let writes = (0..60u64)
        .map(|i| {
            let kind = if i % 6 == 0 { LedgerKind::Sale } else { LedgerKind::Restock };
            book::put_entry(&entry(i, kind, "")).unwrap()
        })
        .collect();
    ctx.records.transact(writes).await.unwrap();
    let mut q = raw(|r| (r.kind, r.limit) = (Some("sale".into()), Some("1".into()))).unwrap();
    let (mut sales, mut pages, mut total) = (Vec::new(), 0, KindSummary::default());
    loop {
        let page = read(&ctx, &q).await.unwrap();
        assert_eq!(page.summary, summarize(&page.entries), "the summary is this page's");
        if let Some(s) = page.summary.get("sale") {
            (total.entries, total.delta) = (total.entries + s.entries, total.delta + s.delta);
        }
        assert!(page.summary.keys().all(|k| *k == "sale"), "only what the filter matches");
        sales.extend(page.entries.iter().map(|e| e.id.clone()));
        pages += 1;
        match page.next_cursor {
            Some(c) => q.before = Some(decode_cursor(&c).unwrap()),
            None => break,
        }
    }
    let want: Vec<String> = (0..60).rev().filter(|i| i % 6 == 0).map(|i| format!("line{}", i + 1)).collect();
    assert_eq!(sales, want, "every sale once, newest first");
    assert!(pages >= 6, "a page of 1 reads at most 10 entries: {pages} pages");
    assert_eq!(total, KindSummary { entries: 10, delta: 10 }, "summed over the pages: the whole filter");
    let whole = read(&ctx, &LedgerQuery { limit: MAX_LIMIT, before: None, ..q.clone() }).await.unwrap();
    assert!(whole.next_cursor.is_none());
    assert_eq!(whole.summary["sale"], total, "one page holding the whole filter says the same");
}

#[test]
fn defaults_and_bounds() {
    assert_eq!(raw(|_| {}).unwrap().limit, DEFAULT_LIMIT);
    assert_eq!(raw(|r| r.limit = Some("500".into())).unwrap().limit, 500);
    for l in ["0", "501", "-1", "x", "1.5"] {
        assert!(raw(|r| r.limit = Some(l.into())).is_err(), "{l}");
    }
}

#[test]
fn kinds_times_and_cursors_parse_or_refuse() {
    let q = raw(|r| r.kind = Some("sale,write_off".into())).unwrap();
    assert_eq!(q.kinds, vec![LedgerKind::Sale, LedgerKind::WriteOff]);
    assert!(raw(|r| r.kind = Some("sales".into())).is_err());
    assert_eq!(parse_time("since", "1700000000123").unwrap(), Timestamp(1_700_000_000_123));
    assert_eq!(parse_time("since", "2023-11-14T22:13:20Z").unwrap(), Timestamp(1_700_000_000_000));
    assert!(parse_time("since", "yesterday").is_err());
    assert!(raw(|r| (r.since, r.until) = (Some("2000".into()), Some("1000".into()))).is_err());
    let c = encode_cursor("000000000042.001");
    assert_eq!(raw(|r| r.cursor = Some(c)).unwrap().before.as_deref(), Some("000000000042.001"));
    for bad in ["!!", "abc", &URL_SAFE_NO_PAD.encode("ledger1:42"), &URL_SAFE_NO_PAD.encode("x:000000000042.001")] {
        assert!(raw(|r| r.cursor = Some(bad.to_string())).is_err(), "{bad}");
    }
}

/// Every page of `q` from its cursor on: the entries' ids, the pages, and
/// the requests they cost.
async fn walk(ctx: &Ctx, records: &Counted, mut q: LedgerQuery) -> (Vec<String>, usize, u64) {
    records.take();
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let page = read(ctx, &q).await.unwrap();
        ids.extend(page.entries.iter().map(|e| e.id.clone()));
        pages += 1;
        match page.next_cursor {
            Some(c) => q.before = Some(decode_cursor(&c).unwrap()),
            None => return (ids, pages, records.take()),
        }
    }
}

/// One order's 10 lines among 600: before every line is in the index by
/// reference, a reference filter walks the ledger (short pages within the
/// read budget); after, it reads that order's lines only, a full page per
/// query. Both find the same lines, newest first, and a walk begun one way
/// goes on from its cursor the other way.
#[tokio::test]
async fn a_reference_filter_reads_only_that_references_lines_once_they_are_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, records) = counted_ctx(dir.path());
    for chunk in 0..6u64 {
        let writes = (chunk * 100..(chunk + 1) * 100)
            .map(|i| {
                let reference = if i % 60 == 59 { "order-a".to_string() } else { format!("other-{i}") };
                book::put_entry(&entry(i, LedgerKind::Sale, &reference)).unwrap()
            })
            .collect();
        ctx.records.transact(writes).await.unwrap();
    }
    let want: Vec<String> = (0..600).rev().filter(|i| i % 60 == 59).map(|i| format!("line{}", i + 1)).collect();
    let q = raw(|r| (r.reference, r.limit) = (Some("order-a".into()), Some("2".into()))).unwrap();

    let (walked, walk_pages, _) = walk(&ctx, &records, q.clone()).await;
    assert_eq!(walked, want, "the walk finds every line once");
    assert!(walk_pages > 20, "a page of 2 reads at most 20 lines: {walk_pages} pages");
    let first = read(&ctx, &q).await.unwrap();
    assert_eq!(first.entries.len(), 1, "the walk's first page reads its budget and finds one line");

    ledger_index::begun_indexed(ctx.records.as_ref()).await;
    let (indexed, pages, requests) = walk(&ctx, &records, q.clone()).await;
    assert_eq!(indexed, want, "the index finds the same lines");
    assert_eq!(pages, 5, "10 lines, full pages of 2");
    assert_eq!(requests, 2 * 5, "per page: the index's mark and one query");

    let cursor = first.next_cursor.map(|c| decode_cursor(&c).unwrap());
    let (rest, _, _) = walk(&ctx, &records, LedgerQuery { before: cursor, ..q }).await;
    let joined: Vec<String> = first.entries.iter().map(|e| e.id.clone()).chain(rest).collect();
    assert_eq!(joined, want, "the walk's cursor goes on in the index: no line twice, none missed");
}
