//! `GET /me`: a signed-in buyer's subscriptions, orders and credits, read
//! by the buyer's own index (`store::buyers`), never by a scan and never
//! anyone else's.

use futures_util::future::try_join_all;
use serde::Serialize;

use super::credits::CreditsView;
use super::model::SubscriptionRecord;
use super::store::{buyers, orders, subscriptions};
use super::{Ctx, ServiceError, credits, usage};
use crate::domain::{Email, Money, OrderStatus, SubscriptionState, UserId, subscription_state};

/// Orders shown (the newest); the subscriptions are those of these orders.
pub const MAX_ORDERS: usize = 100;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MySubscription {
    pub id: String,
    pub product_id: String,
    pub state: SubscriptionState,
    #[schema(format = DateTime)]
    pub valid_until: String,
    pub interval_seconds: u32,
    /// File names (empty once it ended).
    pub files: Vec<String>,
    pub can_run: bool,
    /// Usage in the current period, as the bot engine sees it.
    pub usage: usage::UsageView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyOrder {
    pub order_id: String,
    pub status: OrderStatus,
    pub product_id: String,
    pub price: Money,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The subscription it made or was for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub email: String,
    pub subscriptions: Vec<MySubscription>,
    /// Newest first, at most `MAX_ORDERS`.
    pub orders: Vec<MyOrder>,
    /// Balance and entries, in whole credits.
    pub credits: CreditsView,
}

pub async fn me(ctx: &Ctx, email: &Email) -> Result<Me, ServiceError> {
    let user = UserId::for_email(email);
    let entries = buyers::newest(ctx, user.as_str(), MAX_ORDERS).await?;
    let loaded = try_join_all(entries.iter().map(|e| orders::get(ctx, &e.order_id))).await?;
    let mut my_orders = Vec::new();
    let mut sub_ids: Vec<String> = Vec::new();
    for (entry, order) in entries.iter().zip(loaded) {
        // The entry is written with the order; a missing or foreign order
        // would be a bug, and is not shown.
        let Some(order) = order.filter(|o| o.user_id == user.as_str()) else { continue };
        let sid = order.subscription_id.clone().or_else(|| entry.subscription_id.clone());
        if let Some(sid) = &sid
            && (order.status.is_paid() || order.status == OrderStatus::Refunded)
            && !sub_ids.contains(sid)
        {
            sub_ids.push(sid.clone());
        }
        my_orders.push(MyOrder {
            order_id: order.order_id,
            status: order.status,
            product_id: order.product_id,
            price: order.price,
            created_at: order.created_at.rfc3339(),
            subscription_id: sid,
        });
    }
    let subs = try_join_all(sub_ids.iter().map(|id| subscriptions::get(ctx, id))).await?;
    let mut my_subs = Vec::new();
    for sub in subs.into_iter().flatten().filter(|s| s.user_id == user.as_str()) {
        my_subs.push(subscription(ctx, sub).await);
    }
    Ok(Me {
        email: email.as_str().into(),
        subscriptions: my_subs,
        orders: my_orders,
        credits: credits::view(ctx, email.as_str()).await?,
    })
}

async fn subscription(ctx: &Ctx, s: SubscriptionRecord) -> MySubscription {
    let state = subscription_state(s.valid_until, s.ended, ctx.clock.now());
    let usage = usage::view(ctx, &s).await;
    let files = match state {
        SubscriptionState::Active | SubscriptionState::Grace => s.files.clone(),
        _ => Vec::new(),
    };
    MySubscription {
        can_run: state == SubscriptionState::Active && usage.allows_run(),
        id: s.subscription_id,
        product_id: s.product_id,
        state,
        valid_until: s.valid_until.rfc3339(),
        interval_seconds: s.interval_seconds,
        files,
        usage,
    }
}
