//! What the bot engine may do with a subscription right now.

use serde::Serialize;

use super::items::from_item;
use super::model::SubscriptionRecord;
use super::{Ctx, ServiceError, keys};
use crate::domain::{SubscriptionState, subscription_state};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entitlement {
    pub subscription_id: String,
    pub state: SubscriptionState,
    pub can_run: bool,
    pub interval_seconds: u32,
    #[schema(format = DateTime)]
    pub valid_until: String,
    /// Storage keys under `assigned/{user}/`.
    pub files: Vec<String>,
    /// Usage in the current period and whether it could be read.
    #[serde(flatten)]
    pub usage: super::usage::UsageView,
}

pub async fn entitlement(ctx: &Ctx, id: &str) -> Result<Entitlement, ServiceError> {
    let item = ctx
        .records
        .get(&keys::subscription(id))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no subscription {id}")))?;
    let s: SubscriptionRecord = from_item(item)?;
    let state = subscription_state(s.valid_until, s.ended, ctx.clock.now());
    let files = match state {
        SubscriptionState::Active | SubscriptionState::Grace => {
            s.files.iter().map(|f| format!("assigned/{}/{f}", s.user_id)).collect()
        }
        _ => Vec::new(),
    };
    let usage = super::usage::view(ctx, &s).await;
    Ok(Entitlement {
        subscription_id: s.subscription_id,
        can_run: state == SubscriptionState::Active && usage.allows_run(),
        state,
        interval_seconds: s.interval_seconds,
        valid_until: s.valid_until.rfc3339(),
        files,
        usage,
    })
}
