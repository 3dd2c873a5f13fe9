//! Receipts of payment events (`EVENT#{provider}#{event_id}`): each event is
//! applied once; repeats find its receipt. Kept 90 days, as providers retry
//! for days.

use serde::{Deserialize, Serialize};

use super::super::items::to_item;
use super::super::{Ctx, ServiceError};
use super::Pages;
use crate::domain::{ProviderKind, Timestamp};
use crate::ports::{Cond, Index, Key, Query, Write};

const TTL_DAYS: i64 = 90;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventRecord {
    pub provider: ProviderKind,
    pub event_id: String,
    pub order_id: Option<String>,
    pub received_at: Timestamp,
    /// What the event did: "moved to paid", "duplicate", "refused: ...".
    pub effect: String,
}

pub fn key(provider: ProviderKind, event_id: &str) -> Key {
    Key::new(format!("EVENT#{}#{event_id}", provider.as_str()), "EVENT")
}

pub async fn seen(ctx: &Ctx, provider: ProviderKind, event_id: &str) -> Result<bool, ServiceError> {
    Ok(ctx.records.get(&key(provider, event_id)).await?.is_some())
}

/// An order's receipts, by arrival (staff read them beside the order).
fn by_order(order_id: &str) -> String {
    format!("RECEIPTS#{order_id}")
}

/// The receipts of one order's payment events, oldest first.
pub fn for_order<'a>(ctx: &'a Ctx, order_id: &str) -> Pages<'a, EventRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, by_order(order_id)).limit(100))
}

/// The receipt, once: fails its condition if the event was applied before.
pub fn put(rec: &EventRecord) -> Result<Write, ServiceError> {
    let ttl = rec.received_at.plus_days(TTL_DAYS).secs();
    let gsi = rec.order_id.as_deref().map(|o| (by_order(o), super::sort_at(rec.received_at, &rec.event_id)));
    let item = to_item(&key(rec.provider, &rec.event_id), rec, gsi, Some(ttl))?;
    Ok(Write::Put { item, cond: Some(Cond::NotExists) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::items::from_item;

    #[test]
    fn a_receipt_round_trips_with_its_expiry() {
        let rec = EventRecord {
            provider: ProviderKind::Stripe,
            event_id: "evt_1".into(),
            order_id: Some("o1".into()),
            received_at: Timestamp::from_secs(1_000),
            effect: "Duplicate".into(),
        };
        let Write::Put { item, cond } = put(&rec).unwrap() else { panic!("a put") };
        assert_eq!(cond, Some(Cond::NotExists));
        assert_eq!(item["ttl"], serde_json::json!(1_000 + 90 * 86_400));
        assert_eq!(Key::of(&item), Some(key(ProviderKind::Stripe, "evt_1")));
        let back: EventRecord = from_item(item).unwrap();
        assert_eq!(back.event_id, "evt_1");
    }
}
