//! `GET /me`: a signed-in buyer's subscriptions, orders and credits, read
//! by the buyer's own index (`store::buyers`), never by a scan and never
//! anyone else's.

use futures_util::future::try_join_all;
use serde::Serialize;

use super::credits::CreditsView;
use super::model::SubscriptionRecord;
use super::store::order_index::{self, Entry, Scope, Window};
use super::store::orders::Purpose;
use super::store::{orders, subscriptions};
use super::{Ctx, ServiceError, credits, usage};
use crate::domain::{Email, Money, OrderStatus, SubscriptionId, SubscriptionState, UserId, subscription_state};

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
    // The buyer's orders by the staff search's email index: one page.
    let window = Window { since: None, until: None, before: None, limit: MAX_ORDERS };
    let page = order_index::page(ctx, &Scope::Email(email.as_str().to_string()), &window).await?;
    let ids: Vec<String> = page
        .entries
        .into_iter()
        .map(|e| match e {
            Entry::Pointer(p) => p.order_id,
            Entry::Order(o) => o.order_id,
        })
        .collect();
    let loaded = try_join_all(ids.iter().map(|id| orders::get(ctx, id))).await?;
    let mut my_orders = Vec::new();
    let mut sub_ids: Vec<String> = Vec::new();
    // The pointer is written with the order; a missing or foreign order
    // would be a bug, and is not shown.
    for order in loaded.into_iter().flatten().filter(|o| o.user_id == user.as_str()) {
        let sid = order.subscription_id.clone().or_else(|| match order.purpose {
            Purpose::New => Some(SubscriptionId::for_order(&order.order_id).into()),
            _ => order.for_subscription.clone(),
        });
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
