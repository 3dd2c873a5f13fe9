//! The second factor: a TOTP secret enrolled and confirmed with a first
//! code, recovery codes (stored hashed, each good once), each time step
//! accepted once per account, and failed codes counted per account and
//! window (past `MAX_FAILURES`: 429 until the window ends). Replacing a
//! factor in force takes a code of it: a session alone (a stolen token)
//! cannot swap it and lock its owner out.

use base64::Engine;
use serde::Serialize;

use super::totp;
use crate::domain::{Email, Timestamp, UserId};
use crate::ports::Write;
use crate::services::events;
use crate::services::signin::WINDOW_SECS;
use crate::services::store::signin::{self as counters, hash};
use crate::services::store::staff::{self, StaffRecord};
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError};

/// Wrong codes (sign-in and confirm alike) allowed per account per window.
pub const MAX_FAILURES: u32 = 5;
/// Recovery codes handed out per enrolment.
pub const RECOVERY_CODES: usize = 8;
/// The issuer authenticator apps show.
const ISSUER: &str = "Stockroom";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret, base32 (for typing into an app).
    pub secret: String,
    /// The same as an `otpauth://totp/...` URI (for a QR code).
    pub otpauth_uri: String,
    /// Single-use codes that stand in for a TOTP code; shown this once.
    pub recovery_codes: Vec<String>,
}

fn counter_of(email: &str, now: Timestamp) -> (crate::ports::Key, Timestamp) {
    let start = Timestamp::from_secs(now.secs() - now.secs().rem_euclid(WINDOW_SECS));
    let end = start.plus_secs(WINDOW_SECS);
    let who = Email::parse(email).map(|e| UserId::for_email(&e).to_string()).unwrap_or_else(|_| email.to_string());
    (counters::counter(&format!("staff#code#{who}"), start), end)
}

fn limited(now: Timestamp, end: Timestamp) -> ServiceError {
    ServiceError::RateLimited {
        detail: "too many wrong codes for this account; try again later".into(),
        retry_after_secs: u64::try_from((end.millis() - now.millis() + 999) / 1000).unwrap_or(1),
    }
}

/// Refuses at once when the account's wrong codes reached the limit.
async fn not_limited(ctx: &Ctx, email: &str) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let (key, end) = counter_of(email, now);
    if counters::counted(ctx, &key).await? >= i64::from(MAX_FAILURES) { Err(limited(now, end)) } else { Ok(()) }
}

/// Counts a wrong code; the error to answer (`why`, or 429 past the limit).
pub async fn failed(ctx: &Ctx, email: &str, why: &str) -> ServiceError {
    let now = ctx.clock.now();
    let (key, end) = counter_of(email, now);
    match crate::services::store::apply(ctx, counters::count(key, MAX_FAILURES, end)).await {
        Ok(true) => ServiceError::Unauthorized(why.into()),
        Ok(false) => limited(now, end),
        Err(e) => e,
    }
}

/// What sign-in must also commit for `rec`: nothing without a confirmed
/// secret; else the code's time step, or the recovery code spent.
pub async fn proof(ctx: &Ctx, rec: &StaffRecord, code: Option<&str>) -> Result<Option<Write>, ServiceError> {
    spend(ctx, rec, code, "this account signs in with a second factor: send `totp` with the token").await
}

/// `proof`, answering `missing` when a code is needed and none came.
async fn spend(ctx: &Ctx, rec: &StaffRecord, code: Option<&str>, missing: &str) -> Result<Option<Write>, ServiceError> {
    let (Some(secret_hex), Some(enrolment)) = (&rec.totp_secret, &rec.totp_enrolment) else {
        return Ok(None);
    };
    not_limited(ctx, &rec.email).await?;
    let code =
        code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| ServiceError::Unauthorized(missing.into()))?;
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let secret = hex::decode(secret_hex).map_err(ServiceError::internal)?;
        let now = ctx.clock.now();
        return match totp::matching_step(&secret, code, app_time()) {
            Some(step) => Ok(Some(staff::use_step(&rec.email, step, now)?)),
            None => Err(failed(ctx, &rec.email, "that code does not match").await),
        };
    }
    Ok(Some(staff::spend_code(&rec.email, enrolment, &hash(&normal(code)))))
}

/// The time the authenticator app reads: the real one, not the business
/// clock the local sandbox moves.
fn app_time() -> i64 {
    Timestamp::system_now().secs()
}

/// A recovery code as typed: case, spaces and dashes do not matter.
fn normal(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

fn recovery_code() -> String {
    let raw = totp::base32(&rand::random::<[u8; 8]>()).to_ascii_lowercase();
    format!("{}-{}", &raw[..5], &raw[5..10])
}

fn no_account(email: &str) -> ServiceError {
    ServiceError::NotFound(format!("no staff account {email}: only a signed-in member of staff enrols"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The code of the factor in force (or of the new one, at confirm).
    Code,
    Account,
    Other,
}

/// A new secret and recovery codes for `email`, waiting for `confirm`. A
/// secret already confirmed stays in force until then, and replacing it
/// takes `code`: a current code of it or an unused recovery code.
pub async fn enrol(ctx: &Ctx, email: &str, code: Option<&str>) -> Result<Enrolment, ServiceError> {
    let rec = staff::get(ctx, email).await?.ok_or_else(|| no_account(email))?;
    let missing = "a second factor is on for this account: send `code`, a current code from the app or an unused \
                   recovery code, to replace it";
    let proof = spend(ctx, &rec, code, missing).await.map_err(bad)?;
    let secret = rand::random::<[u8; 20]>();
    let enrolment = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 9]>());
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let mut tx: Tx<Part> = Tx::new();
    if let Some(w) = proof {
        tx.push(Part::Code, w);
    }
    // Started over the factor just proved (or none): `confirm` replaces
    // only that one, so an enrolment begun before a factor was confirmed
    // (no code asked) cannot replace it.
    let over = rec.totp_enrolment.as_deref();
    tx.push(Part::Account, staff::start_totp(email, &hex::encode(secret), &enrolment, over));
    for c in &codes {
        tx.push(Part::Other, staff::add_code(email, &enrolment, &hash(&normal(c)))?);
    }
    match tx.commit(ctx).await? {
        Commit::Done => Ok(Enrolment {
            secret: totp::base32(&secret),
            otpauth_uri: totp::otpauth_uri(ISSUER, email, &secret),
            recovery_codes: codes,
        }),
        Commit::Refused(Part::Code) => {
            Err(bad(failed(ctx, email, "that code was used already, or is no recovery code of yours").await))
        }
        Commit::Refused(_) => Err(no_account(email)),
    }
}

/// The waiting secret becomes the account's with its first code; from now
/// on sign-in needs a code. A wrong code counts as a failed attempt. A
/// `staff.changed` event (`totp_enrolled`, or `totp_replaced` over a
/// factor in force) records it.
pub async fn confirm(ctx: &Ctx, email: &str, code: &str, actor: &str) -> Result<(), ServiceError> {
    let rec = staff::get(ctx, email).await?.ok_or_else(|| no_account(email))?;
    let (Some(pending), Some(enrolment)) = (&rec.totp_pending, &rec.totp_pending_enrolment) else {
        return Err(ServiceError::Conflict("no enrolment waits: POST /admin/staff/me/totp first".into()));
    };
    // Only an enrolment started with a code of the factor in force replaces it.
    if rec.totp_enrolment.is_some() && rec.totp_pending_over != rec.totp_enrolment {
        return Err(ServiceError::Conflict(
            "this enrolment began before your second factor was on: start again with a code of it".into(),
        ));
    }
    not_limited(ctx, email).await?;
    let secret = hex::decode(pending).map_err(ServiceError::internal)?;
    let now = ctx.clock.now();
    let Some(step) = totp::matching_step(&secret, code.trim(), app_time()) else {
        return Err(bad(failed(ctx, email, "that code does not match the new secret").await));
    };
    let action = if rec.totp_secret.is_some() { "totp_replaced" } else { "totp_enrolled" };
    let mut tx: Tx<Part> = Tx::new();
    tx.push(Part::Account, staff::confirm_totp(email, pending, enrolment))
        .push(Part::Code, staff::use_step(email, step, now)?)
        .push(Part::Other, events::record(ctx, &super::changed(&rec, action, actor))?);
    match tx.commit(ctx).await? {
        Commit::Done => Ok(()),
        Commit::Refused(Part::Code) => {
            Err(bad(failed(ctx, email, "that code was used already; wait for the next").await))
        }
        Commit::Refused(_) => Err(ServiceError::Conflict("another enrolment replaced this one; confirm that".into())),
    }
}

/// A wrong code from a signed-in caller is a bad request, not a failed
/// sign-in (their session is fine).
fn bad(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Unauthorized(why) => ServiceError::BadInput(format!("code: {why}")),
        other => other,
    }
}

#[cfg(test)]
#[path = "second_tests.rs"]
mod tests;
