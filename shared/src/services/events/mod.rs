//! What Stockroom tells the world: one typed event per thing that happened,
//! each with its own data shape. A leaf: every use case may emit, none is
//! called from here.

mod examples;
pub mod log;

pub use examples::examples;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::store::outbox::{self, EventItem};
use super::{Ctx, ServiceError};
use crate::domain::{Direction, EndReason, EntryKind, Location};
use crate::ports::Write;

/// An event and its data. Serialised as `{"type": ..., "data": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// More money arrived than the order costs.
    #[serde(rename = "order.overpaid")]
    OrderOverpaid { order_id: String, excess: String, received: Option<String> },
    /// A repeated checkout asked for an open order: its link goes to the owner.
    #[serde(rename = "order.link_requested")]
    OrderLinkRequested { order_id: String, email: String },
    /// The whole price arrived.
    /// `amount` in the currency's units ("12.50"), `amount_minor` in minor units.
    #[serde(rename = "order.paid")]
    OrderPaid {
        order_id: String,
        email: String,
        product_id: String,
        amount: String,
        amount_minor: i64,
        currency: String,
    },
    /// Part of the price arrived; the rest is missing until the hold ends.
    #[serde(rename = "order.partially_paid")]
    OrderPartiallyPaid { order_id: String, email: String, missing: Option<String>, reserved_until: String },
    /// `files` this order added; `valid_until` of its subscription after it.
    #[serde(rename = "order.fulfilled")]
    OrderFulfilled {
        order_id: String,
        email: String,
        product_id: String,
        subscription_id: Option<String>,
        files: Vec<String>,
        valid_until: Option<String>,
    },
    /// Paid, but no stock: filled when stock returns.
    #[serde(rename = "order.backordered")]
    OrderBackordered { order_id: String, files: u32, product_id: String, email: String },
    #[serde(rename = "order.refunded")]
    OrderRefunded { order_id: String, email: String, method: Option<String> },
    /// Not paid in time: its hold went back.
    #[serde(rename = "order.expired")]
    OrderExpired { order_id: String, email: String },
    /// The provider said the payment failed (or no invoice could be made).
    #[serde(rename = "order.failed")]
    OrderFailed { order_id: String, email: String },
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
    /// A renewal paid: the subscription runs until `valid_until` now.
    #[serde(rename = "subscription.renewed")]
    SubscriptionRenewed {
        subscription_id: String,
        order_id: String,
        email: String,
        previous_valid_until: String,
        valid_until: String,
    },
    /// Its end is `hours_left` hours away (sent 72 h and 24 h before, once each).
    #[serde(rename = "subscription.expiring_soon")]
    SubscriptionExpiringSoon {
        subscription_id: String,
        email: String,
        product_id: String,
        valid_until: String,
        hours_left: u32,
    },
    #[serde(rename = "subscription.grace_started")]
    SubscriptionGrace { subscription_id: String, email: String, valid_until: String, files_return_at: String },
    #[serde(rename = "subscription.ended")]
    SubscriptionEnded {
        subscription_id: String,
        order_id: String,
        email: String,
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
    /// Staff added, changed or retired a catalog product: who, and the
    /// product before (none when new) and after.
    #[serde(rename = "catalog.product_changed")]
    CatalogChanged {
        product_id: String,
        actor: String,
        before: Option<Box<crate::domain::Product>>,
        after: Box<crate::domain::Product>,
    },
    /// An admin (or the configuration, `actor` `config`) added, changed or
    /// removed a staff account: `action` is added, changed or removed;
    /// `role` and `disabled` as the account is after it (before, if removed).
    /// A member of staff put a second factor in force: `totp_enrolled`, or
    /// `totp_replaced` over one that was on.
    #[serde(rename = "staff.changed")]
    StaffChanged { email: String, action: String, role: crate::domain::Role, disabled: bool, actor: String },
    /// Available stock covers fewer than `threshold` files of the product.
    #[serde(rename = "stock.low")]
    StockLow {
        product_id: String,
        available: i64,
        threshold: i64,
        /// How many days available stock lasts at the last week's sales
        /// rate (all plans draw on one pool); none when nothing sold.
        #[serde(default)]
        days_of_cover: Option<f64>,
    },
    /// Not one purchase of the product is covered: it is not sold now.
    #[serde(rename = "stock.sold_out")]
    StockSoldOut {
        product_id: String,
        available: i64,
        #[serde(default)]
        days_of_cover: Option<f64>,
    },
    /// A sold-out product covers a purchase again.
    #[serde(rename = "stock.restocked")]
    StockRestocked { product_id: String, available: i64 },
    /// A credit transfer posted: earned credits became spendable (`in`),
    /// or a spend was taken for good (`out`). `amount` in whole credits.
    #[serde(rename = "credits.posted")]
    CreditsPosted {
        transfer_id: String,
        email: String,
        origin: EntryKind,
        direction: Direction,
        amount: i64,
        order_id: Option<String>,
    },
    /// Something staff must look at: `kind` is job_failed,
    /// invariant_violation, endpoint_disabled, payment_outside_order,
    /// late_payment_uncovered or refund_ended_later_orders (a provider's
    /// refund ended a subscription that later paid orders add to;
    /// `details.later_orders` names them); `details` says more.
    #[serde(rename = "ops.alert")]
    OpsAlert { kind: String, message: String, details: Value },
    /// A file a record placed with a buyer was found elsewhere.
    #[serde(rename = "stock.ghost")]
    StockGhost { file: String, user_id: Option<String>, order_id: Option<String>, now_at: String },
    /// A file with a record and no copy anywhere.
    #[serde(rename = "stock.lost")]
    StockLost { file: String, location: Location, user_id: Option<String>, order_id: Option<String> },
}

impl Event {
    /// The version of every type's `data` shape (fields are only added).
    pub const VERSION: u32 = 1;

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

/// The outbox write of `event`, for the transaction of the change that
/// causes it: committed with it or not at all, once however often the
/// change is attempted (the change's own conditions guard it).
pub fn record(ctx: &Ctx, event: &Event) -> Result<Write, ServiceError> {
    let now = ctx.clock.now();
    let v = serde_json::to_value(event).map_err(ServiceError::internal)?;
    let item =
        EventItem { id: outbox::new_id(now), kind: event.kind(), at: now, data: v["data"].clone(), v: Event::VERSION };
    outbox::put(&item)
}

impl From<EventItem> for Envelope {
    fn from(e: EventItem) -> Self {
        Envelope { id: e.id, kind: e.kind, timestamp: e.at.rfc3339(), data: e.data }
    }
}

/// Records an event on its own, after the change that caused it committed
/// (for changes not yet writing their events in their own transaction): a
/// failed write is logged, never fails the business step.
pub async fn notify(ctx: &Ctx, event: Event) {
    let written = match record(ctx, &event) {
        Ok(w) => ctx.records.transact(vec![w]).await.map_err(ServiceError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        tracing::error!(kind = %event.kind(), error = ?e, "could not record event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_their_wire_shape() {
        let e = Event::StockLow { product_id: "bronze".into(), available: 1, threshold: 2, days_of_cover: Some(1.5) };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "stock.low", "data": {"product_id": "bronze", "available": 1, "threshold": 2, "days_of_cover": 1.5}})
        );
        assert_eq!(e.kind(), "stock.low");
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), e);
    }
}
