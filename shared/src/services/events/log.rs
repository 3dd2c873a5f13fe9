//! `GET /admin/events`: the event log, for polling and audits. With `since`,
//! oldest first from then (a poller passes back `next_cursor`); without it,
//! newest first. A page reads at most a bounded number of events whatever
//! the history: a type filter that matches little returns a short page
//! with a cursor to go on from.

use serde::Deserialize;

use super::Envelope;
use crate::domain::Timestamp;
use crate::services::ledger::parse_time;
use crate::services::store::outbox::{self, EventItem};
use crate::services::{Ctx, ServiceError};

/// Events are kept this many days: no older day is read.
const DAYS_KEPT: i64 = 36;
/// Most events one page reads per event it returns.
const SCAN_FACTOR: usize = 10;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawQuery {
    /// Only events of this type (e.g. `order.paid`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Oldest first from this time (RFC 3339 or epoch milliseconds).
    pub since: Option<String>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// 1 to 500, default 100.
    pub limit: Option<usize>,
}

#[derive(Debug)]
pub struct LogQuery {
    kind: Option<String>,
    since: Option<Timestamp>,
    cursor: Option<String>,
    limit: usize,
}

impl LogQuery {
    pub fn parse(raw: RawQuery) -> Result<Self, ServiceError> {
        let bad = |m: &str| ServiceError::BadInput(m.to_string());
        let limit = raw.limit.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(bad("limit: must be 1 to 500"));
        }
        let since = raw.since.filter(|s| !s.is_empty()).map(|s| parse_time("since", &s)).transpose()?;
        let cursor = raw.cursor.filter(|c| !c.is_empty());
        if cursor.as_deref().is_some_and(|c| outbox::key(c).is_none()) {
            return Err(bad("cursor: not a cursor of this log"));
        }
        let kind = raw.kind.filter(|k| !k.is_empty());
        if kind
            .as_deref()
            .is_some_and(|k| k.len() > 64 || !k.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'))
        {
            return Err(bad("type: an event type such as order.paid"));
        }
        Ok(LogQuery { kind, since, cursor, limit })
    }
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EventsPage {
    pub events: Vec<Envelope>,
    /// Pass as `cursor` for the next page; null when there is no more.
    pub next_cursor: Option<String>,
}

pub async fn read(ctx: &Ctx, q: &LogQuery) -> Result<EventsPage, ServiceError> {
    let today = outbox::day_of(ctx.clock.now());
    let oldest_first = q.since.is_some();
    let (mut day, last) = match q.since {
        Some(t) => (outbox::day_of(t).max(today - DAYS_KEPT), today + 1),
        None => (today, today - DAYS_KEPT),
    };
    let mut after = q.cursor.clone();
    if let Some(key) = after.as_deref().and_then(outbox::key) {
        day = key.pk.trim_start_matches("EVENTS#").parse().unwrap_or(day);
    }
    let mut out: Vec<EventItem> = Vec::new();
    let mut read = 0;
    let budget = q.limit * SCAN_FACTOR;
    loop {
        let past = if oldest_first { day > last } else { day < last };
        if past {
            return Ok(EventsPage { events: out.into_iter().map(Envelope::from).collect(), next_cursor: None });
        }
        let (items, more) = outbox::day(ctx, day, after.as_deref(), q.limit, !oldest_first).await?;
        for e in items {
            read += 1;
            after = Some(e.id.clone());
            let wanted = q.since.is_none_or(|s| e.at >= s) && q.kind.as_deref().is_none_or(|k| e.kind == k);
            if wanted {
                out.push(e);
            }
            if out.len() >= q.limit || read >= budget {
                return Ok(EventsPage { events: out.into_iter().map(Envelope::from).collect(), next_cursor: after });
            }
        }
        if !more {
            day += if oldest_first { 1 } else { -1 };
            after = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::adapters::embedded::open_embedded;
    use crate::ports::clock::OffsetClock;
    use crate::services::events::{Event, record};
    use crate::testkit::stack::local_ctx;

    fn q(kind: Option<&str>, since: Option<&str>, cursor: Option<String>, limit: usize) -> LogQuery {
        let raw = RawQuery { kind: kind.map(Into::into), since: since.map(Into::into), cursor, limit: Some(limit) };
        LogQuery::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn pages_cover_every_event_once_across_days_in_both_directions_and_filter_by_type() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(OffsetClock::default());
        let b = open_embedded(dir.path(), clock.clone()).unwrap();
        let ctx =
            local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock.clone());
        let start = ctx.clock.now();
        let mut written = Vec::new();
        for n in 0..25i64 {
            let event = if n % 5 == 0 {
                Event::StockLow { product_id: format!("p{n}"), available: n, threshold: 30, days_of_cover: None }
            } else {
                Event::OrderExpired { order_id: format!("o{n}"), email: "a@b.c".into() }
            };
            ctx.records.transact(vec![record(&ctx, &event).unwrap()]).await.unwrap();
            written.push(event.kind());
            clock.advance(7 * 3600); // 25 events over about a week
        }
        let since = start.rfc3339();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = read(&ctx, &q(None, Some(&since), cursor.clone(), 4)).await.unwrap();
            assert!(page.events.len() <= 4);
            seen.extend(page.events.iter().map(|e| e.id.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25, "every event once");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "oldest first");

        let mut newest = Vec::new();
        let mut cursor = None;
        loop {
            let page = read(&ctx, &q(None, None, cursor.clone(), 6)).await.unwrap();
            newest.extend(page.events.iter().map(|e| e.id.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        newest.reverse();
        assert_eq!(newest, seen, "newest first, the same events");

        let mut low = 0;
        let mut cursor = None;
        loop {
            let page = read(&ctx, &q(Some("stock.low"), Some(&since), cursor.clone(), 2)).await.unwrap();
            assert!(page.events.iter().all(|e| e.kind == "stock.low"));
            low += page.events.len();
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(low, written.iter().filter(|k| *k == "stock.low").count());
    }

    #[test]
    fn bad_queries_are_refused() {
        let bad = |raw: RawQuery| LogQuery::parse(raw).unwrap_err();
        assert!(matches!(bad(RawQuery { limit: Some(0), ..Default::default() }), ServiceError::BadInput(_)));
        assert!(matches!(bad(RawQuery { limit: Some(501), ..Default::default() }), ServiceError::BadInput(_)));
        assert!(matches!(
            bad(RawQuery { since: Some("yesterday".into()), ..Default::default() }),
            ServiceError::BadInput(_)
        ));
        assert!(matches!(bad(RawQuery { cursor: Some("x".into()), ..Default::default() }), ServiceError::BadInput(_)));
        assert!(matches!(
            bad(RawQuery { kind: Some("<script>".into()), ..Default::default() }),
            ServiceError::BadInput(_)
        ));
    }
}
