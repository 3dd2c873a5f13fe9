//! `GET /admin/orders`: orders by status, email and date, newest first, in
//! pages that each read at most `limit + 2` index entries (and, for the
//! email and date indexes, one order per entry) whatever the history.
//!
//! With `status`, the date is when the order entered that status (the
//! status index's order); otherwise when it was created. `email` with
//! `status` reads the buyer's orders and keeps those in the status, so a
//! page may hold fewer than `limit` with a cursor to go on from.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::super::ledger::parse_time;
use super::super::model::OrderRecord;
use super::super::store::order_index::{self, Entry, Scope, Window};
use super::super::store::orders;
use super::super::{Ctx, ServiceError};
use crate::domain::{Email, OrderStatus, Timestamp};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
const CURSOR_TAG: &str = "orders1:";

/// The query string as it arrives; `OrderQuery::parse` checks every field.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawQuery {
    /// One order status (`backordered`, `partially_paid`, `paid` = paid, not yet fulfilled).
    pub status: Option<String>,
    /// The buyer's email.
    pub email: Option<String>,
    /// Inclusive lower bound: RFC 3339 or epoch milliseconds.
    pub since: Option<String>,
    /// Inclusive upper bound, as `since`.
    pub until: Option<String>,
    /// Orders per page (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    pub email: Option<String>,
    pub window: Window,
}

pub struct OrderPage {
    pub orders: Vec<OrderRecord>,
    pub next_cursor: Option<String>,
}

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(m.into())
}

fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub fn encode_cursor(sk: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_TAG}{sk}"))
}

/// A cursor is an index sort key (`{15 digits}#{order id}`); anything else
/// is refused rather than handed to the store.
fn decode_cursor(c: &str) -> Result<String, ServiceError> {
    let refused = || bad("cursor: not a cursor this API returned");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).map_err(|_| refused())?).map_err(|_| refused())?;
    let sk = text.strip_prefix(CURSOR_TAG).ok_or_else(refused)?;
    let (time, id) = sk.split_once('#').ok_or_else(refused)?;
    let ok = time.len() == 15
        && time.bytes().all(|b| b.is_ascii_digit())
        && (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(sk.to_string()) } else { Err(refused()) }
}

impl OrderQuery {
    pub fn parse(raw: RawQuery) -> Result<Self, ServiceError> {
        let limit = match given(raw.limit) {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(bad(format!("limit: '{l}' is not a whole number from 1 to {MAX_LIMIT}"))),
            },
        };
        let status = given(raw.status)
            .map(|s| OrderStatus::parse(&s).ok_or_else(|| bad(format!("status: '{s}' is not an order status"))))
            .transpose()?;
        let email = given(raw.email)
            .map(|e| Email::parse(&e).map(|e| e.as_str().to_string()).map_err(|_| bad("email: not an email address")))
            .transpose()?;
        let since: Option<Timestamp> = given(raw.since).map(|s| parse_time("since", &s)).transpose()?;
        let until: Option<Timestamp> = given(raw.until).map(|s| parse_time("until", &s)).transpose()?;
        if let (Some(a), Some(b)) = (since, until)
            && a > b
        {
            return Err(bad("since is after until"));
        }
        let before = given(raw.cursor).map(|c| decode_cursor(&c)).transpose()?;
        Ok(OrderQuery { status, email, window: Window { since, until, before, limit } })
    }

    fn scope(&self) -> Scope {
        match (&self.email, self.status) {
            (Some(e), _) => Scope::Email(e.clone()),
            (None, Some(s)) => Scope::Status(s),
            (None, None) => Scope::All,
        }
    }
}

/// One page of matching orders, newest first.
pub async fn list(ctx: &Ctx, q: &OrderQuery) -> Result<OrderPage, ServiceError> {
    let page = order_index::page(ctx, &q.scope(), &q.window).await?;
    let mut out = Vec::with_capacity(page.entries.len());
    let pointed: Vec<String> = page
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Pointer(p) => Some(p.order_id.clone()),
            Entry::Order(_) => None,
        })
        .collect();
    let fetched = futures_util::future::join_all(pointed.iter().map(|id| orders::get(ctx, id))).await;
    let mut fetched = fetched.into_iter();
    for e in page.entries {
        let order = match e {
            Entry::Order(o) => Some(*o),
            Entry::Pointer(_) => fetched.next().transpose()?.flatten(),
        };
        // The status index is read eventually consistent: keep what is still so.
        if let Some(o) = order.filter(|o| q.status.is_none_or(|s| o.status == s)) {
            out.push(o);
        }
    }
    Ok(OrderPage { orders: out, next_cursor: page.next.as_deref().map(encode_cursor) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(f: impl FnOnce(&mut RawQuery)) -> Result<OrderQuery, ServiceError> {
        let mut r = RawQuery::default();
        f(&mut r);
        OrderQuery::parse(r)
    }

    #[test]
    fn fields_parse_or_are_refused() {
        assert_eq!(raw(|_| {}).unwrap().window.limit, DEFAULT_LIMIT);
        for l in ["0", "201", "x", "-3"] {
            assert!(raw(|r| r.limit = Some(l.into())).is_err(), "{l}");
        }
        assert_eq!(raw(|r| r.status = Some("backordered".into())).unwrap().status, Some(OrderStatus::Backordered));
        assert!(raw(|r| r.status = Some("lost".into())).is_err());
        assert!(raw(|r| r.email = Some("not-an-email".into())).is_err());
        assert!(raw(|r| (r.since, r.until) = (Some("2000".into()), Some("1000".into()))).is_err());
        let c = encode_cursor("000001700000000#01J0ABC");
        assert_eq!(raw(|r| r.cursor = Some(c)).unwrap().window.before.as_deref(), Some("000001700000000#01J0ABC"));
        for c in ["!!", &URL_SAFE_NO_PAD.encode("orders1:12#x"), &URL_SAFE_NO_PAD.encode("orders1:000001700000000#a b")]
        {
            assert!(raw(|r| r.cursor = Some(c.to_string())).is_err(), "{c}");
        }
    }
}
