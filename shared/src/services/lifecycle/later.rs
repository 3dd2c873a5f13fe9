//! Orders that still add to a subscription after the one that created it:
//! its renewals, extensions and add-ons, paid and not refunded. Refunding
//! the creating order ends the subscription, and with it what those bought
//! while they stay paid. So staff are refused (`refund-later-orders-first`)
//! until those are refunded, or the subscription is revoked on purpose. A
//! provider's refund has already happened and cannot be refused: it still
//! ends the subscription (the plan the others add to is no longer paid
//! for), and its commit raises an ops alert naming them, for staff to refund.

use serde_json::json;

use super::super::events::Event;
use super::super::model::{OrderRecord, SubscriptionRecord};
use super::super::store::order_index::{self, Entry, Scope, Window};
use super::super::store::orders;
use super::super::{Ctx, Refusal, ServiceError, ops};

pub const REFUND_LATER_FIRST: Refusal =
    Refusal { kind: "refund-later-orders-first", title: "Later orders still add to this subscription" };

/// The kind of the ops alert.
pub const ALERT_KIND: &str = "refund_ended_later_orders";

/// The buyer's order pointers read per page.
const PAGE: usize = 100;

/// The live subscription refunding `order` would end, and the later
/// orders that still add to it; `None` when there are none.
pub async fn blocking(
    ctx: &Ctx,
    order: &OrderRecord,
) -> Result<Option<(SubscriptionRecord, Vec<OrderRecord>)>, ServiceError> {
    let Some(sub) = super::refund::ends_live(ctx, order).await? else { return Ok(None) };
    let later = adding_to(ctx, &sub).await?;
    Ok((!later.is_empty()).then_some((sub, later)))
}

/// Staff's refund of `order` is refused while it would end a live
/// subscription that later orders still add to.
pub async fn refuse_if_later(ctx: &Ctx, order: &OrderRecord) -> Result<(), ServiceError> {
    let Some((sub, later)) = blocking(ctx, order).await? else { return Ok(()) };
    let sid = &sub.subscription_id;
    let detail = format!(
        "order {} created subscription {sid}, and refunding it would end the subscription; later orders still add \
         to it: {}. Refund those first, or revoke the subscription (POST /admin/subscriptions/{sid}/revoke) and \
         then refund this order",
        order.order_id,
        listed(&later)
    );
    Err(ServiceError::Refused { why: &REFUND_LATER_FIRST, detail })
}

/// The paid, unrefunded orders that add to `sub`, newest first. Each is its
/// buyer's (checkout gives it the subscription's email) and was made after
/// the subscription began, so one walk of the buyer's orders since finds them.
pub async fn adding_to(ctx: &Ctx, sub: &SubscriptionRecord) -> Result<Vec<OrderRecord>, ServiceError> {
    let scope = Scope::Email(sub.email.clone());
    let mut window = Window { since: Some(sub.created_at), until: None, before: None, limit: PAGE };
    let mut out = Vec::new();
    loop {
        let page = order_index::page(ctx, &scope, &window).await?;
        for entry in page.entries {
            let Entry::Pointer(p) = entry else { continue };
            if let Some(o) = orders::get(ctx, &p.order_id).await?.filter(|o| adds_to(o, sub)) {
                out.push(o);
            }
        }
        match page.next {
            Some(next) => window.before = Some(next),
            None => return Ok(out),
        }
    }
}

fn adds_to(o: &OrderRecord, sub: &SubscriptionRecord) -> bool {
    let sid = sub.subscription_id.as_str();
    o.order_id != sub.order_id
        && o.status.is_paid()
        && o.for_subscription.as_deref() == Some(sid)
        // A renewal fulfilled after its subscription ended began its own.
        && o.subscription_id.as_deref().is_none_or(|s| s == sid)
}

/// The ops alert of a refund that ended `sub` while `later` still added to it.
pub fn alert(order_id: &str, sub: &SubscriptionRecord, later: &[OrderRecord], actor: &str) -> Event {
    let ids: Vec<&str> = later.iter().map(|o| o.order_id.as_str()).collect();
    let message = format!(
        "order {order_id} was refunded ({actor}) and its subscription {} ended, but later orders still paid for it: \
         {}. Refund them, or make them good another way",
        sub.subscription_id,
        listed(later)
    );
    let details = json!({"order_id": order_id, "subscription_id": sub.subscription_id, "later_orders": ids});
    ops::alert(ALERT_KIND, message, details)
}

/// `id (product, status), ...`
fn listed(later: &[OrderRecord]) -> String {
    let each: Vec<String> = later.iter().map(|o| format!("{} ({}, {})", o.order_id, o.product_id, o.status)).collect();
    each.join(", ")
}
