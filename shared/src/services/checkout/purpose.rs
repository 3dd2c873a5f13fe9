//! What a checkout buys: a new plan, a renewal, or an add-on for a live
//! subscription (proved by the buyer's session, or by the order token of
//! the order that bought it).

use super::request::{CheckoutRequest, ForSubscription};
use crate::domain::{Email, GRACE_MILLIS, Product, ProductKind};
use crate::services::model::{Purpose, SubscriptionRecord};
use crate::services::{Ctx, ServiceError, catalog, subscriptions};

pub struct Purchase {
    pub purpose: Purpose,
    pub for_subscription: Option<String>,
    /// Files to hold and hand out.
    pub files: u32,
    pub email: Email,
    pub interval_seconds: u32,
    pub validity_days: u32,
}

pub async fn resolve(ctx: &Ctx, req: &CheckoutRequest, product: &Product) -> Result<Purchase, ServiceError> {
    let bad = |m: &str| Err(ServiceError::BadInput(m.to_string()));
    let new = |purpose, sub: Option<&SubscriptionRecord>, files, email: Email| Purchase {
        purpose,
        for_subscription: sub.map(|s| s.subscription_id.clone()),
        files,
        email,
        interval_seconds: product.interval_seconds,
        validity_days: product.validity_days,
    };
    let Some(target) = &req.for_subscription else {
        return match product.kind {
            ProductKind::Plan => Ok(new(Purpose::New, None, product.files, req.email.clone())),
            _ => bad("an add-on is bought for a subscription: give subscription_id and order_token"),
        };
    };
    let sub = owned(ctx, target, req.buyer.as_ref()).await?;
    let email = Email::parse(&sub.email).map_err(|e| ServiceError::internal(anyhow::anyhow!(e)))?;
    match (product.kind, target.renew) {
        (ProductKind::Plan, true) => {
            if sub.product_id != product.id {
                return bad(&format!("a renewal is of the same plan: {}", sub.product_id));
            }
            // Its files went back when it ended: a renewal then needs new ones.
            let files = if sub.ended.is_some() { product.files } else { 0 };
            Ok(new(Purpose::Renew, Some(&sub), files, email))
        }
        (ProductKind::Plan, false) => bad("a plan is bought new, or renewed with renew_subscription_id"),
        (_, true) => bad("renew_subscription_id is for plans; add-ons take subscription_id"),
        (ProductKind::ExtraFiles, false) => {
            live(ctx, &sub)?;
            let mut p = new(Purpose::ExtraFiles, Some(&sub), product.files, email);
            p.interval_seconds = sub.interval_seconds;
            Ok(p)
        }
        (ProductKind::Extend, false) => {
            live(ctx, &sub)?;
            let plan = catalog::get(ctx, &sub.product_id).await?;
            if plan.is_some_and(|plan| plan.price.amount > product.price.amount) {
                return bad(&format!(
                    "{} is for plans costing at most its price; renew {} instead",
                    product.id, sub.product_id
                ));
            }
            let mut p = new(Purpose::Extend, Some(&sub), 0, email);
            p.interval_seconds = sub.interval_seconds;
            Ok(p)
        }
    }
}

/// The subscription, if the signed-in buyer owns it or the token is that of
/// the order that bought it. Someone else's, a wrong token and an unknown
/// subscription look the same (404); no proof at all is 401.
async fn owned(ctx: &Ctx, target: &ForSubscription, buyer: Option<&Email>) -> Result<SubscriptionRecord, ServiceError> {
    if buyer.is_none() && target.order_token.is_none() {
        return Err(ServiceError::Unauthorized(
            "a renewal or add-on needs the buyer's session (Authorization: Bearer {session_token}) or the order_token \
             of the order that bought the subscription"
                .into(),
        ));
    }
    let not_found = || ServiceError::NotFound(format!("no subscription {} of yours", target.subscription_id));
    let sub = match subscriptions::load(ctx, &target.subscription_id).await {
        Ok(s) => s,
        Err(ServiceError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e),
    };
    let by_session = buyer.is_some_and(|b| b.as_str() == sub.email);
    let by_token = target.order_token.as_deref().is_some_and(|t| ctx.settings.order_tokens().verify(&sub.order_id, t));
    if by_session || by_token { Ok(sub) } else { Err(not_found()) }
}

/// Add-ons are for subscriptions still running or in grace.
fn live(ctx: &Ctx, sub: &SubscriptionRecord) -> Result<(), ServiceError> {
    let over = sub.ended.is_some() || ctx.clock.now() >= sub.valid_until.plus_millis(GRACE_MILLIS);
    if over {
        return Err(ServiceError::Conflict(format!("subscription {} has ended; buy a new plan", sub.subscription_id)));
    }
    Ok(())
}
