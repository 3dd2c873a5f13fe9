//! Staff accounts: who may sign in to the staff side and with what role.
//! Every change is written with its `staff.changed` event (who, when) in
//! one transaction. Sign-in and sessions in `session`, the second factor in
//! `second`.

pub mod second;
pub mod session;
pub mod totp;

use super::events::{self, Event};
use super::store::staff::{self, StaffRecord};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError};
use crate::domain::{Email, Role};

/// The actor of accounts made from configuration (`STOCKROOM_ADMIN_EMAIL`).
pub const CONFIG_ACTOR: &str = "config";

/// The configured first admin (`Settings::admin_email`), if any.
pub async fn seed_configured(ctx: &Ctx) -> Result<(), ServiceError> {
    let Some(raw) = ctx.settings.admin_email.clone() else {
        return Ok(());
    };
    let email = Email::parse(&raw).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    seed_admin(ctx, &email).await
}

/// Makes `email` the first admin while the shop has no enabled admin at
/// all: a fresh shop gets one, and so does a shop whose admins are all gone
/// (the operator's way back in). Otherwise nothing: an admin who removed
/// this account, demoted or disabled it meant it, and a restart must not
/// bring it back (as admin, and without its second factor). An existing
/// account for `email` is never changed here. Run at start; repeats are
/// no-ops.
pub async fn seed_admin(ctx: &Ctx, email: &Email) -> Result<(), ServiceError> {
    if staff::get(ctx, email.as_str()).await?.is_some() {
        return Ok(());
    }
    if list(ctx).await?.iter().any(|r| r.role == Role::Admin && !r.disabled) {
        tracing::info!(email = %email, "not adding the configured admin: the shop has an admin");
        return Ok(());
    }
    let rec = StaffRecord::new(email.as_str(), Role::Admin, CONFIG_ACTOR, ctx.clock.now(), false);
    let event = changed(&rec, "added", CONFIG_ACTOR);
    let mut tx: Tx<()> = Tx::new();
    tx.push((), staff::add(&rec)?).push((), events::record(ctx, &event)?);
    // Refused: another process seeded it first, which is as good.
    let _seeded = tx.commit(ctx).await?;
    Ok(())
}

fn changed(rec: &StaffRecord, action: &str, actor: &str) -> Event {
    Event::StaffChanged {
        email: rec.email.clone(),
        action: action.into(),
        role: rec.role,
        disabled: rec.disabled,
        actor: actor.into(),
    }
}

pub async fn list(ctx: &Ctx) -> Result<Vec<StaffRecord>, ServiceError> {
    staff::all(ctx).read_all().await
}

/// Adds `email` with `role`, or changes an existing account's role and
/// state. `actor_email` is the caller's own account, if it is one: nobody
/// demotes or disables themselves (the shop would lose its last admin).
/// The account as stored and whether it is new.
pub async fn save(
    ctx: &Ctx,
    email: &Email,
    role: Role,
    disabled: bool,
    actor: &str,
    actor_email: Option<&str>,
) -> Result<(StaffRecord, bool), ServiceError> {
    if actor_email == Some(email.as_str()) && (role != Role::Admin || disabled) {
        return Err(ServiceError::Conflict("you cannot demote or disable your own account".into()));
    }
    let before = staff::get(ctx, email.as_str()).await?;
    let created = before.is_none();
    let rec = match before {
        // As `staff::change` stores it: disabling starts a new epoch.
        Some(old) => StaffRecord { role, disabled, sessions_epoch: old.sessions_epoch + i64::from(disabled), ..old },
        None => StaffRecord::new(email.as_str(), role, actor, ctx.clock.now(), disabled),
    };
    let write = if created { staff::add(&rec)? } else { staff::change(&rec.email, role, disabled)? };
    let event = changed(&rec, if created { "added" } else { "changed" }, actor);
    let mut tx: Tx<()> = Tx::new();
    tx.push((), write).push((), events::record(ctx, &event)?);
    match tx.commit(ctx).await? {
        Commit::Done => Ok((rec, created)),
        Commit::Refused(()) => Err(ServiceError::Conflict(format!("staff account {email} changed meanwhile; retry"))),
    }
}

/// Removes the account; its sessions fail their next check.
pub async fn remove(ctx: &Ctx, email: &str, actor: &str, actor_email: Option<&str>) -> Result<(), ServiceError> {
    if actor_email == Some(email) {
        return Err(ServiceError::Conflict("you cannot remove your own account".into()));
    }
    let rec =
        staff::get(ctx, email).await?.ok_or_else(|| ServiceError::NotFound(format!("no staff account {email}")))?;
    let mut tx: Tx<()> = Tx::new();
    tx.push((), staff::remove(email)).push((), events::record(ctx, &changed(&rec, "removed", actor))?);
    match tx.commit(ctx).await? {
        Commit::Done => Ok(()),
        Commit::Refused(()) => Err(ServiceError::NotFound(format!("no staff account {email}"))),
    }
}
