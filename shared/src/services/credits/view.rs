//! The staff view of a customer's credits, and the audit that proves the
//! account's sums equal the sums of its entries.

use serde::Serialize;

use super::records::EntryRecord;
use crate::domain::{Balance, Email, UserId};
use crate::services::retry::{Step, retry};
use crate::services::store::credits as store;
use crate::services::{Ctx, ServiceError};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CreditEntry)]
pub struct EntryView {
    pub id: String,
    pub kind: crate::domain::EntryKind,
    pub amount: i64,
    pub reference: String,
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: String,
    /// The entry's change of the posted balance (0 for pending steps).
    pub posted: i64,
    pub reason: String,
}

/// A customer's credits (whole credits) and every entry, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreditsView {
    pub email: String,
    pub posted: i64,
    pub pending_in: i64,
    pub pending_out: i64,
    /// posted minus pending_out: what checkout may spend now.
    pub spendable: i64,
    pub entries: Vec<EntryView>,
}

pub async fn view(ctx: &Ctx, email: &str) -> Result<CreditsView, ServiceError> {
    let email = Email::parse(email).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let user = UserId::for_email(&email);
    let account = super::spend::account(ctx, user.as_str()).await?;
    let entries = entries(ctx, user.as_str()).await?;
    Ok(CreditsView {
        email: email.as_str().to_string(),
        posted: account.posted,
        pending_in: account.pending_in,
        pending_out: account.pending_out,
        spendable: account.posted - account.pending_out,
        entries: entries
            .into_iter()
            .map(|e| EntryView {
                id: e.id,
                kind: e.kind,
                amount: e.amount,
                reference: e.reference,
                at: e.at.rfc3339(),
                actor: e.actor,
                posted: e.posted,
                reason: e.reason,
            })
            .collect(),
    })
}

/// Every entry of one customer, oldest first.
pub async fn entries(ctx: &Ctx, user_id: &str) -> Result<Vec<EntryRecord>, ServiceError> {
    store::entries(ctx, user_id).read_all().await
}

#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// What the account record says.
    pub account: Balance,
    pub spendable: i64,
    /// The same sums recomputed from the entries.
    pub entries: Balance,
    /// Entries the account has counted, and entries found.
    pub version: i64,
    pub count: usize,
}

impl Audit {
    pub fn ok(&self) -> bool {
        self.account == self.entries
            && self.spendable == self.account.spendable()
            && usize::try_from(self.version).is_ok_and(|v| v == self.count)
    }
}

/// Recomputes the balance from the entries (invariant 8: balance = sum of
/// posted entries). Tests call it after every step.
pub async fn audit(ctx: &Ctx, email: &str) -> Result<Audit, ServiceError> {
    let email = Email::parse(email).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let user = UserId::for_email(&email);
    // Not one snapshot: read the account around the entries and try again
    // if an entry landed in between (the version counts entries).
    retry(format!("credits of {email}"), || async {
        let a = super::spend::account(ctx, user.as_str()).await?;
        let list = entries(ctx, user.as_str()).await?;
        if super::spend::account(ctx, user.as_str()).await?.version != a.version {
            return Ok(Step::Again);
        }
        let mut sum = Balance::default();
        for e in &list {
            sum.posted += e.posted;
            sum.pending_in += e.pending_in;
            sum.pending_out += e.pending_out;
        }
        Ok(Step::Done(Audit {
            account: Balance { posted: a.posted, pending_in: a.pending_in, pending_out: a.pending_out },
            spendable: a.spendable,
            entries: sum,
            version: a.version,
            count: list.len(),
        }))
    })
    .await
}
