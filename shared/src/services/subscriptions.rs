//! Reading subscriptions. A leaf: everything that acts on a subscription
//! starts here.

use super::items::from_item;
use super::model::SubscriptionRecord;
use super::{Ctx, ServiceError, keys};

/// The subscription, or 404.
pub async fn load(ctx: &Ctx, subscription_id: &str) -> Result<SubscriptionRecord, ServiceError> {
    let item = ctx
        .records
        .get(&keys::subscription(subscription_id))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no subscription {subscription_id}")))?;
    Ok(from_item(item)?)
}
