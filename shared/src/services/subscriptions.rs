//! Reading subscriptions. A leaf: everything that acts on a subscription
//! starts here.

use super::store::subscriptions::{self as store, SubscriptionRecord};
use super::{Ctx, ServiceError};

/// The subscription, or 404.
pub async fn load(ctx: &Ctx, subscription_id: &str) -> Result<SubscriptionRecord, ServiceError> {
    store::get(ctx, subscription_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no subscription {subscription_id}")))
}
