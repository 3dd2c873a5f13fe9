//! Staff sign-in: the buyers' email link (`signin`, audience staff) mailed
//! only to enabled staff accounts, then a session record whose id the staff
//! JWT carries (`sid`). A session lives while its record does and its
//! account is the same one, enabled and not disabled since; removing or
//! disabling it ends the session for good.

use super::second;
use crate::domain::{Email, Role};
use crate::services::signin::{self, Audience};
use crate::services::store::staff::{self, SessionRecord, StaffRecord};
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError};

/// How long a staff session lives unless configured.
pub const SESSION_HOURS: i64 = 8;

/// A link for an enabled staff account; for any other address nothing is
/// stored or sent, and the caller answers the same (the request is counted
/// all the same, so the limits answer alike too).
pub async fn request_link(ctx: &Ctx, email: &Email, client_ip: Option<&str>) -> Result<(), ServiceError> {
    match staff::get(ctx, email.as_str()).await? {
        Some(rec) if !rec.disabled => signin::request_link(ctx, Audience::Staff, email, client_ip).await,
        _ => signin::count_only(ctx, Audience::Staff, email, client_ip).await,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Second,
    Session,
    Account,
}

/// Exchanges a staff link (and, once enrolled, a TOTP or recovery code)
/// for a new session of `hours`.
pub async fn sign_in(
    ctx: &Ctx,
    token: &str,
    code: Option<&str>,
    hours: i64,
) -> Result<(StaffRecord, SessionRecord), ServiceError> {
    let email = signin::exchange(ctx, Audience::Staff, token).await?;
    let rec = staff::get(ctx, email.as_str())
        .await?
        .filter(|r| !r.disabled)
        .ok_or_else(|| ServiceError::Unauthorized("this staff account is removed or disabled".into()))?;
    let mut tx: Tx<Part> = Tx::new();
    let proof = second::proof(ctx, &rec, code).await?;
    if let Some(w) = proof {
        tx.push(Part::Second, w);
    }
    let now = ctx.clock.now();
    let session = SessionRecord {
        sid: hex::encode(rand::random::<[u8; 16]>()),
        email: rec.email.clone(),
        account_created_at: rec.created_at,
        account_epoch: rec.sessions_epoch,
        created_at: now,
        expires_at: now.plus_secs(hours * 3600),
    };
    tx.push(Part::Session, staff::open_session(&session)?);
    tx.push(Part::Account, staff::is_live(&rec.email, rec.created_at, rec.sessions_epoch)?);
    match tx.commit(ctx).await? {
        Commit::Done => Ok((rec, session)),
        Commit::Refused(Part::Second) => Err(second::failed(ctx, &rec.email, "this code was used already").await),
        Commit::Refused(Part::Account) => {
            Err(ServiceError::Unauthorized("this staff account changed meanwhile; sign in again".into()))
        }
        Commit::Refused(Part::Session) => Err(ServiceError::internal(anyhow::anyhow!("a fresh session id was taken"))),
    }
}

/// The role `sid` acts with now, if its session is live and its account
/// (`sub`) enabled and the same one the session began under, not disabled
/// since (enabling it again revives no session).
pub async fn check(ctx: &Ctx, sid: &str, sub: &str) -> Result<Role, ServiceError> {
    let ended = || ServiceError::Unauthorized("this staff session has ended; sign in again".into());
    let session = staff::session(ctx, sid).await?.filter(|s| s.email == sub).ok_or_else(ended)?;
    let rec = staff::get(ctx, &session.email)
        .await?
        .filter(|r| {
            !r.disabled && r.created_at == session.account_created_at && r.sessions_epoch == session.account_epoch
        })
        .ok_or_else(ended)?;
    Ok(rec.role)
}

/// Ends one session (signing out). Unknown or ended: `NotFound`.
pub async fn end(ctx: &Ctx, sid: &str) -> Result<(), ServiceError> {
    if crate::services::store::apply(ctx, staff::end_session(sid)).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound("no such session".into()))
    }
}
