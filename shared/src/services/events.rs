//! What Stockroom tells the world: one typed event per thing that happened,
//! each with its own data shape. A leaf: every use case may emit, none is
//! called from here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Ctx;
use crate::domain::{EndReason, Location};

/// An event and its data. Serialised as `{"type": ..., "data": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// More money arrived than the order costs.
    #[serde(rename = "order.overpaid")]
    OrderOverpaid { order_id: String, excess: String, received: Option<String> },
    /// A repeated checkout asked for an open order: its link goes to the owner.
    #[serde(rename = "order.link_requested")]
    OrderLinkRequested { order_id: String, email: String },
    /// Paid, but no stock: filled when stock returns.
    #[serde(rename = "order.backordered")]
    OrderBackordered { order_id: String, files: u32, product_id: String },
    /// A renewal or add-on paid for a subscription that ended first.
    #[serde(rename = "order.stranded")]
    OrderStranded { order_id: String, subscription_id: Option<String>, why: String },
    #[serde(rename = "subscription.activated")]
    SubscriptionActivated {
        subscription_id: String,
        order_id: String,
        user_id: String,
        files: Vec<String>,
        interval_seconds: u32,
        valid_until: String,
    },
    #[serde(rename = "subscription.grace")]
    SubscriptionGrace { subscription_id: String, email: String, valid_until: String, files_return_at: String },
    #[serde(rename = "subscription.ended")]
    SubscriptionEnded {
        subscription_id: String,
        order_id: String,
        reason: EndReason,
        files: Vec<String>,
        note: Option<String>,
    },
    /// Staff banned a file in use and gave the subscription another.
    #[serde(rename = "subscription.file_replaced")]
    FileReplaced {
        subscription_id: String,
        order_id: String,
        user_id: String,
        email: String,
        file: String,
        replacement: String,
        reason: String,
    },
    /// Staff banned a file in use with no replacement in stock.
    #[serde(rename = "subscription.file_flagged")]
    FileFlagged {
        subscription_id: String,
        order_id: String,
        user_id: String,
        email: String,
        file: String,
        reason: String,
    },
    #[serde(rename = "stock.low")]
    StockLow { product_id: String, available: i64, threshold: i64 },
    /// A file a record placed with a buyer was found elsewhere.
    #[serde(rename = "stock.ghost")]
    StockGhost { file: String, user_id: Option<String>, order_id: Option<String>, now_at: String },
    /// A file with a record and no copy anywhere.
    #[serde(rename = "stock.lost")]
    StockLost { file: String, location: Location, user_id: Option<String>, order_id: Option<String> },
}

impl Event {
    /// The event's type, as sent.
    pub fn kind(&self) -> String {
        match serde_json::to_value(self) {
            Ok(v) => v["type"].as_str().unwrap_or_default().to_string(),
            Err(_) => String::new(),
        }
    }
}

/// An event as it leaves Stockroom (merchant webhooks, mail, the event
/// log): `{id, type, timestamp, data}`. The id is the event's own, the same
/// on every delivery attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// When the change happened (RFC 3339).
    pub timestamp: String,
    pub data: Value,
}

/// Puts an event on the events queue (notifications, alerts, the bot
/// engine). Best effort: a lost event is logged, never fails the business
/// step that already committed.
pub async fn notify(ctx: &Ctx, event: Event) {
    let mut body = match serde_json::to_value(&event) {
        Ok(v) => v,
        Err(e) => return tracing::error!(?event, error = %e, "could not encode event"),
    };
    body["at"] = ctx.clock.now().rfc3339().into();
    if let Err(e) = ctx.events.send(body.to_string()).await {
        tracing::error!(kind = %event.kind(), error = %e, "could not send event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_their_wire_shape() {
        let e = Event::StockLow { product_id: "bronze".into(), available: 1, threshold: 2 };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "stock.low", "data": {"product_id": "bronze", "available": 1, "threshold": 2}})
        );
        assert_eq!(e.kind(), "stock.low");
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), e);
    }
}
