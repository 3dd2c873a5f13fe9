//! Gifts from staff: posted at once; deactivating one reverses it once.

use serde::{Deserialize, Serialize};

use super::ledger::{self, Outcome};
use super::records::TransferRecord;
use crate::domain::{Action, Direction, Email, EntryKind, TransferState, UserId};
use crate::services::{Ctx, ServiceError};

/// Most credits one gift may give (a typo guard).
pub const MAX_GIFT: i64 = 1_000_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GiftBody {
    #[schema(example = "buyer@example.com")]
    pub email: String,
    /// Whole credits, 1 to 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub amount: i64,
    /// Why (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// The gift, posted at once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GiftReceipt {
    pub id: String,
    pub email: String,
    pub amount: i64,
}

pub async fn gift(ctx: &Ctx, body: GiftBody, actor: &str) -> Result<GiftReceipt, ServiceError> {
    let email = Email::parse(&body.email).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    if !(1..=MAX_GIFT).contains(&body.amount) {
        return Err(ServiceError::BadInput(format!("amount must be a whole number of credits, 1 to {MAX_GIFT}")));
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(ServiceError::BadInput("reason must be 1 to 500 characters".into()));
    }
    let t = TransferRecord {
        id: format!("G{}", ctx.ids.next_id()),
        user_id: UserId::for_email(&email).as_str().to_string(),
        email: email.as_str().to_string(),
        origin: EntryKind::Gift,
        dir: Direction::In,
        amount: body.amount,
        state: TransferState::Posted,
        reversed: false,
        order_id: None,
        reason: reason.to_string(),
        actor: actor.to_string(),
        created_at: ctx.clock.now(),
        due_at: None,
    };
    if !ledger::open(ctx, &t, false).await? {
        return Err(ServiceError::Conflict("gift id taken; try again".into()));
    }
    Ok(GiftReceipt { id: t.id, email: t.email, amount: t.amount })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GiftDeactivated {
    pub id: String,
    /// reversed, or unchanged (reversed before).
    #[schema(value_type = String, pattern = "^(reversed|unchanged)$")]
    pub credits: &'static str,
    pub amount: i64,
}

pub async fn deactivate(ctx: &Ctx, id: &str, actor: &str) -> Result<GiftDeactivated, ServiceError> {
    let missing = || ServiceError::NotFound(format!("no gift {id}"));
    let is_gift_id = id.strip_prefix('G').is_some_and(|u| ulid::Ulid::from_string(u).is_ok());
    if !is_gift_id {
        return Err(missing());
    }
    let t = ledger::load(ctx, id).await?.filter(|t| t.origin == EntryKind::Gift).ok_or_else(missing)?;
    let outcome = ledger::transition(ctx, id, Action::Deactivate, actor).await?.ok_or_else(missing)?;
    let credits = if matches!(outcome, Outcome::Wrote(_)) { "reversed" } else { "unchanged" };
    Ok(GiftDeactivated { id: id.to_string(), credits, amount: t.amount })
}
