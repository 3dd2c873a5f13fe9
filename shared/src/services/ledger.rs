//! Reading the stock ledger for staff: filters, newest first, in cursor
//! pages, each with a summary per kind of the entries it returns.
//!
//! The ledger is one partition (`LEDGER`) sorted by `seq`, the counters'
//! version, not by time. `at` is stamped under the counters' lock, so it
//! follows `seq` up to clock skew between writers: the scan walks down from
//! the newest entry, filters on `at`, and stops `SKEW_MILLIS` below `since`.
//! Cost: a page starts below its cursor and reads at most `SCAN_FACTOR`
//! entries per entry it returns, whatever the history; a filter that matches
//! little returns a short page, even an empty one, with a cursor to go on
//! from. The summary is always there and covers exactly the entries this page
//! returns (per kind: how many, and the sum of their deltas). Every matching
//! entry is on exactly one page, so summing the summaries of all the pages of
//! a filter gives the totals of the whole filter, exactly; no single request
//! reads the whole filter.
//! Pages are cut by `seq`; entries written meanwhile are always newer, so
//! they never shift a page: no duplicates, no gaps.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::store::stock::{self as book, LedgerEntry};
use super::{Ctx, ServiceError};
use crate::domain::{LedgerKind, Timestamp};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 500;
/// How far `at` may run against `seq` between two writers' clocks.
pub const SKEW_MILLIS: i64 = 5 * 60 * 1000;
const SCAN_PAGE: usize = 1000;
/// Most entries one page reads per entry it returns.
const SCAN_FACTOR: usize = 10;
const CURSOR_TAG: &str = "ledger1:";

/// The query string as it arrives; every field is checked by `parse`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawQuery {
    /// Ledger kinds, comma separated (`sale,refund`).
    #[param(example = "sale,refund")]
    pub kind: Option<String>,
    /// Only entries of this file.
    pub file: Option<String>,
    /// Only entries with this reference (an order id, `adjust:...`).
    pub reference: Option<String>,
    /// Inclusive lower bound on `at`: RFC 3339 (`2026-01-31T12:00:00Z`) or epoch milliseconds.
    #[param(example = "2026-01-31T12:00:00Z")]
    pub since: Option<String>,
    /// Inclusive upper bound on `at`, as `since`.
    pub until: Option<String>,
    /// Entries per page (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// A `next_cursor` (or `Next-Cursor` header) from an earlier page.
    pub cursor: Option<String>,
}

/// A checked ledger query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LedgerQuery {
    /// Empty: every kind.
    pub kinds: Vec<LedgerKind>,
    pub file: Option<String>,
    pub reference: Option<String>,
    /// Inclusive bounds on `at`.
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub limit: usize,
    /// Only entries older than this `seq`.
    pub before: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KindSummary {
    pub entries: u64,
    /// Sum of the entries' change of available stock.
    pub delta: i64,
}

#[derive(Debug)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    /// Per kind, over the entries of this page (their sum over every page of
    /// a filter is the whole filter's).
    pub summary: BTreeMap<&'static str, KindSummary>,
    pub next_cursor: Option<String>,
}

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(msg.into())
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// A time as RFC 3339 (`2026-01-31T12:00:00Z`) or as epoch milliseconds.
pub fn parse_time(field: &str, s: &str) -> Result<Timestamp, ServiceError> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map(Timestamp).map_err(|_| bad(format!("{field}: epoch milliseconds out of range")));
    }
    Timestamp::parse_rfc3339(s)
        .ok_or_else(|| bad(format!("{field}: '{s}' is neither RFC 3339 (2026-01-31T12:00:00Z) nor epoch milliseconds")))
}

/// Kinds, comma separated (`sale,refund`).
fn parse_kinds(s: &str) -> Result<Vec<LedgerKind>, ServiceError> {
    s.split(',')
        .map(|k| {
            serde_json::from_value::<LedgerKind>(serde_json::Value::String(k.trim().to_string()))
                .map_err(|_| bad(format!("kind: '{}' is not a ledger kind", k.trim())))
        })
        .collect()
}

pub fn encode_cursor(seq: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_TAG}{seq}"))
}

pub fn decode_cursor(c: &str) -> Result<String, ServiceError> {
    let refused = || bad("cursor: not a cursor this API returned");
    let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let seq = text.strip_prefix(CURSOR_TAG).ok_or_else(refused)?;
    // `{version:012}.{n:03}`, as `store::stock::seq` writes it.
    let ok = seq.len() == 16
        && seq.as_bytes()[12] == b'.'
        && seq.bytes().enumerate().all(|(i, b)| i == 12 || b.is_ascii_digit());
    if ok { Ok(seq.to_string()) } else { Err(refused()) }
}

impl LedgerQuery {
    pub fn parse(raw: RawQuery) -> Result<Self, ServiceError> {
        let limit = match non_empty(raw.limit) {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(bad(format!("limit: '{l}' is not a whole number from 1 to {MAX_LIMIT}"))),
            },
        };
        let since = non_empty(raw.since).map(|s| parse_time("since", &s)).transpose()?;
        let until = non_empty(raw.until).map(|s| parse_time("until", &s)).transpose()?;
        if let (Some(a), Some(b)) = (since, until)
            && a > b
        {
            return Err(bad("since is after until"));
        }
        Ok(LedgerQuery {
            kinds: non_empty(raw.kind).map(|k| parse_kinds(&k)).transpose()?.unwrap_or_default(),
            file: non_empty(raw.file),
            reference: non_empty(raw.reference),
            since,
            until,
            limit,
            before: non_empty(raw.cursor).map(|c| decode_cursor(&c)).transpose()?,
        })
    }

    /// Whether an entry passes the filters (the cursor aside).
    pub fn matches(&self, e: &LedgerEntry) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && self.file.as_ref().is_none_or(|f| e.file.as_ref() == Some(f))
            && self.reference.as_ref().is_none_or(|r| *r == e.reference)
            && self.since.is_none_or(|s| e.at >= s)
            && self.until.is_none_or(|u| e.at <= u)
    }
}

/// One page of matching entries, newest first, with the summary of that page.
pub async fn read(ctx: &Ctx, q: &LedgerQuery) -> Result<LedgerPage, ServiceError> {
    let mut page = scan(ctx, q).await?;
    page.summary = summarize(&page.entries);
    Ok(page)
}

/// The bounded scan: at most `limit * SCAN_FACTOR` entries below the cursor
/// (and one query page past it).
async fn scan(ctx: &Ctx, q: &LedgerQuery) -> Result<LedgerPage, ServiceError> {
    let floor = q.since.map(|s| s.plus_millis(-SKEW_MILLIS));
    let mut out = LedgerPage { entries: Vec::new(), summary: BTreeMap::new(), next_cursor: None };
    let budget = q.limit * SCAN_FACTOR;
    let mut read = 0;
    // A full page and the one entry that says there is more, plus the
    // cursor's own entry (the range includes it): one query when it can.
    let first = q.limit + 1 + usize::from(q.before.is_some());
    let mut pages = book::newest_below(ctx, q.before.as_deref(), first.min(SCAN_PAGE));
    while let Some(page) = pages.next_page().await? {
        for e in page {
            if floor.is_some_and(|f| e.at < f) {
                return Ok(out);
            }
            // The range is inclusive: the cursor's own entry was on the page before.
            if q.before.as_ref().is_some_and(|b| e.seq >= *b) {
                continue;
            }
            read += 1;
            let spent = (read >= budget).then(|| encode_cursor(&e.seq));
            if q.matches(&e) {
                if out.entries.len() == q.limit {
                    out.next_cursor = out.entries.last().map(|l| encode_cursor(&l.seq));
                    return Ok(out);
                }
                out.entries.push(e);
            }
            if spent.is_some() {
                out.next_cursor = spent;
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// Per kind: how many entries and the sum of their deltas.
pub fn summarize(entries: &[LedgerEntry]) -> BTreeMap<&'static str, KindSummary> {
    let mut summary: BTreeMap<&'static str, KindSummary> = BTreeMap::new();
    for e in entries {
        let s = summary.entry(e.kind.as_str()).or_default();
        s.entries += 1;
        s.delta += e.delta;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(f: impl FnOnce(&mut RawQuery)) -> Result<LedgerQuery, ServiceError> {
        let mut r = RawQuery::default();
        f(&mut r);
        LedgerQuery::parse(r)
    }

    /// 60 entries, every sixth a sale: a kind filter reads at most
    /// `SCAN_FACTOR` entries per entry a page may return, so pages come back
    /// short, with a cursor, and the walk still finds every sale once; the
    /// pages' summaries add up to the whole filter's.
    #[tokio::test]
    async fn a_sparse_filter_reads_a_bounded_page_and_walks_every_match() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = crate::testkit::stack::embedded_ctx(dir.path());
        let mut writes = Vec::new();
        for i in 0..60u64 {
            let kind = if i % 6 == 0 { LedgerKind::Sale } else { LedgerKind::Restock };
            let e = LedgerEntry {
                id: format!("e{i}"),
                seq: book::seq(i + 1, 0),
                at: Timestamp(1_700_000_000_000 + i as i64),
                kind,
                file: None,
                delta: 1,
                before: 0,
                after: 1,
                counts: Default::default(),
                reason: String::new(),
                reference: String::new(),
                actor: String::new(),
            };
            writes.push(book::put_entry(&e).unwrap());
        }
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
        let want: Vec<String> = (0..60).rev().filter(|i| i % 6 == 0).map(|i| format!("e{i}")).collect();
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
}
