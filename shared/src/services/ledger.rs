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
//! from. A reference filter (one order's lines) reads only that reference's
//! lines, from the index by reference (`store::ledger_index`), once every
//! line is in it. The summary is always there and covers exactly the entries
//! this page returns (per kind: how many, and the sum of their deltas). Every
//! matching entry is on exactly one page, so summing the summaries of all the
//! pages of a filter gives the totals of the whole filter, exactly; no single
//! request reads the whole filter.
//! Pages are cut by `seq`; entries written meanwhile are always newer, so
//! they never shift a page: no duplicates, no gaps.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::store::ledger_index;
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
/// (and one query page past it). With a reference, once every line is in the
/// index by reference, only that reference's lines are read; cursors are a
/// `seq` either way, so a walk can go on from the other source's cursor.
async fn scan(ctx: &Ctx, q: &LedgerQuery) -> Result<LedgerPage, ServiceError> {
    let floor = q.since.map(|s| s.plus_millis(-SKEW_MILLIS));
    let mut out = LedgerPage { entries: Vec::new(), summary: BTreeMap::new(), next_cursor: None };
    let budget = q.limit * SCAN_FACTOR;
    let mut read = 0;
    // A full page and the one entry that says there is more, plus the
    // cursor's own entry (the range includes it): one query when it can.
    let first = q.limit + 1 + usize::from(q.before.is_some());
    let (before, first) = (q.before.as_deref(), first.min(SCAN_PAGE));
    let mut pages = match &q.reference {
        Some(r) if ledger_index::complete(ctx).await? => ledger_index::referencing(ctx, r, before, first),
        _ => book::newest_below(ctx, before, first),
    };
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
#[path = "ledger_tests.rs"]
mod tests;
