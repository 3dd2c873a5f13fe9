//! `GET /admin/ledger`: the stock ledger, filtered, newest first.
//!
//! Query: `kind` (one or more, comma separated), `file`, `reference`,
//! `since` and `until` (inclusive; RFC 3339 such as `2026-01-31T12:00:00Z`,
//! or epoch milliseconds), `limit` (1 to 500, default 100) and `cursor` (a
//! `next_cursor` from before). Anything else wrong is a 400.
//!
//! A request reads O(limit) entries whatever the history: a page starts
//! below its cursor and stops at a read budget, so it may come back short or
//! empty with a `next_cursor`. `summary` is always an object: per kind, the
//! entries and summed delta of the entries this page returns; summing the
//! summaries of every page of a filter gives the whole filter's totals exactly.
//!
//! `Accept: text/csv` returns the same page as CSV (a header row, RFC 4180
//! quoting): CSV pages exactly like JSON, the next page's cursor comes in the
//! `Next-Cursor` header (absent on the last page), and there is no summary.
//! Free-text cells that a spreadsheet would run as a formula get a leading `'`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::super::AppState;
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use crate::domain::{LedgerKind, StockCounts};
use crate::services::ServiceError;
use crate::services::ledger::{self, KindSummary, LedgerQuery, RawQuery};
use crate::services::model::LedgerEntry;

/// One stock ledger entry.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LedgerEntryView)]
pub struct EntryView<'a> {
    id: &'a str,
    #[schema(format = DateTime)]
    at: String,
    #[schema(value_type = LedgerKind)]
    kind: &'static str,
    file: Option<&'a str>,
    /// Change of available stock (unused - reserved), and its value around it.
    delta: i64,
    before: i64,
    after: i64,
    /// All counts after this entry.
    counts: StockCounts,
    reason: &'a str,
    reference: &'a str,
    actor: &'a str,
}

/// A page of the ledger, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerPageView<'a> {
    entries: Vec<EntryView<'a>>,
    /// Per kind, the count and summed delta of the entries on this page
    /// (always an object, `{}` for an empty page). Every matching entry is on
    /// exactly one page, so the summaries of all the pages of a filter add up
    /// to the whole filter's totals exactly.
    #[schema(value_type = BTreeMap<LedgerKind, KindSummary>)]
    summary: &'a BTreeMap<&'static str, KindSummary>,
    /// Pass as `cursor` for the next page; null on the last. A page stops at
    /// a read budget (10 entries read per entry it may return), so it may be
    /// short, even empty, and still have a next page.
    next_cursor: Option<&'a str>,
}

fn view(e: &LedgerEntry) -> EntryView<'_> {
    EntryView {
        id: &e.id,
        at: e.at.rfc3339(),
        kind: e.kind.as_str(),
        file: e.file.as_deref(),
        delta: e.delta,
        before: e.before,
        after: e.after,
        counts: e.counts,
        reason: &e.reason,
        reference: &e.reference,
        actor: &e.actor,
    }
}

#[utoipa::path(get, path = "/admin/ledger", tag = "staff", operation_id = "stock_ledger", security(("staff_jwt" = [])),
    params(RawQuery),
    responses(
        (status = 200, description = "A page of matching entries, newest first, and the per-kind summary of this \
            page's entries (summed over every page, the whole filter's totals). A page reads a bounded number of \
            entries whatever the history, so it may be short or empty with a `next_cursor`. With `Accept: text/csv`, \
            the same page as CSV (header row, no summary) and the next page's cursor in `Next-Cursor`",
            content((LedgerPageView = "application/json"), (String = "text/csv")),
            headers(("Next-Cursor" = String, description = "CSV only: the next page's cursor; absent on the last page"))),
        (status = 400, response = BadRequest),
        (status = 500, response = Internal),
    ))]
pub async fn ledger(
    State(s): State<AppState>,
    query: Result<Query<RawQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(raw) = query.map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
    let q = LedgerQuery::parse(raw)?;
    let page = ledger::read(&s.ctx, &q).await?;
    if wants_csv(&headers) {
        return csv_page(&page);
    }
    let body = LedgerPageView {
        entries: page.entries.iter().map(view).collect(),
        summary: &page.summary,
        next_cursor: page.next_cursor.as_deref(),
    };
    Ok(Json(body).into_response())
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| m.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")))
}

/// Keeps a spreadsheet from running a cell as a formula.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() }
}

pub const CSV_HEADER: [&str; 15] = [
    "id",
    "at",
    "kind",
    "file",
    "delta",
    "before",
    "after",
    "unused",
    "reserved",
    "assigned",
    "banned",
    "frozen",
    "reason",
    "reference",
    "actor",
];

fn csv_page(page: &ledger::LedgerPage) -> Result<Response, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::from(ServiceError::internal(e));
    w.write_record(CSV_HEADER).map_err(fail)?;
    for e in &page.entries {
        let c = e.counts;
        let nums =
            [e.delta, e.before, e.after, c.unused, c.reserved, c.assigned, c.banned, c.frozen].map(|n| n.to_string());
        let mut row =
            vec![e.id.clone(), e.at.rfc3339(), e.kind.as_str().to_string(), e.file.clone().unwrap_or_default()];
        row.extend(nums);
        row.extend([cell(&e.reason), cell(&e.reference), cell(&e.actor)]);
        w.write_record(&row).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::from(ServiceError::internal(anyhow::anyhow!("csv: {e}"))))?;
    let mut resp = bytes.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Some(c) = &page.next_cursor
        && let Ok(v) = HeaderValue::from_str(c)
    {
        resp.headers_mut().insert("next-cursor", v);
    }
    Ok(resp)
}
