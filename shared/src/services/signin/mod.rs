//! Sign-in by email link, for any audience (buyers now, staff later): a
//! single-use link, stored hashed, lapsing after `LINK_MINUTES`, mailed
//! at once; requests counted per email and per client address. Who may ask
//! (anyone for buyers; staff only for staff) is the caller's rule.

pub mod session;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::Sha256;

use super::store::signin::{self, LinkRecord};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError, mail};
use crate::domain::{Email, Timestamp, UserId};

/// How long an asked-for link works.
pub const LINK_MINUTES: i64 = 15;
/// The window the request limits count in.
pub const WINDOW_SECS: i64 = 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Customer,
    Staff,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Customer => "customer",
            Audience::Staff => "staff",
        }
    }
    /// The page a link opens.
    fn page(self) -> &'static str {
        match self {
            Audience::Customer => "/account",
            Audience::Staff => "/console",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Link,
    Email,
    Ip,
}

/// Mails `email` a sign-in link, whoever asks and whether or not the
/// address has bought anything (the answer is the same either way). Past
/// the limits: `RateLimited`, and nothing stored or sent.
pub async fn request_link(
    ctx: &Ctx,
    audience: Audience,
    email: &Email,
    client_ip: Option<&str>,
) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let token = format!("sl_{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let hash = signin::hash(&token);
    let rec = LinkRecord {
        audience: audience.as_str().into(),
        email: email.as_str().into(),
        created_at: now,
        expires_ms: now.plus_secs(LINK_MINUTES * 60).millis(),
        used: false,
        used_at: None,
    };
    let mut tx = Tx::new();
    tx.push(Slot::Link, signin::put_new(&hash, &rec)?);
    commit_counted(ctx, audience, email, client_ip, tx).await?;
    let url = format!("{}{}?token={token}", ctx.settings.public_url, audience.page());
    let data = json!({"link_url": url, "minutes": LINK_MINUTES});
    mail::send_now(ctx, &format!("signin-{}", &hash[..24]), "auth.sign_in", "sign_in", email, &data).await
}

/// Counts a request that sends nothing (a staff link asked for an address
/// that is no staff) against the same limits as one that does, so neither
/// the answer nor a 429 after a few tries tells which addresses are staff.
pub async fn count_only(
    ctx: &Ctx,
    audience: Audience,
    email: &Email,
    client_ip: Option<&str>,
) -> Result<(), ServiceError> {
    commit_counted(ctx, audience, email, client_ip, Tx::new()).await
}

/// Commits `tx` with a count of the request per email and per client
/// address in this window; past either limit, `RateLimited` and nothing
/// written.
async fn commit_counted(
    ctx: &Ctx,
    audience: Audience,
    email: &Email,
    client_ip: Option<&str>,
    mut tx: Tx<Slot>,
) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let window = Timestamp::from_secs(now.secs() - now.secs().rem_euclid(WINDOW_SECS));
    let window_end = window.plus_secs(WINDOW_SECS);
    let per = |who: String| signin::counter(&format!("{}#{who}", audience.as_str()), window);
    if ctx.settings.signin_per_email > 0 {
        let who = per(format!("email#{}", UserId::for_email(email)));
        tx.push(Slot::Email, signin::count(who, ctx.settings.signin_per_email, window_end));
    }
    if let (Some(ip), max) = (client_ip, ctx.settings.signin_per_ip)
        && max > 0
    {
        tx.push(Slot::Ip, signin::count(per(format!("ip#{ip}")), max, window_end));
    }
    if tx.is_empty() {
        return Ok(());
    }
    let limited = |whom: &str| ServiceError::RateLimited {
        detail: format!("too many sign-in links asked for {whom}; try again later"),
        retry_after_secs: u64::try_from((window_end.millis() - now.millis() + 999) / 1000).unwrap_or(1),
    };
    match tx.commit(ctx).await? {
        Commit::Done => Ok(()),
        Commit::Refused(Slot::Email) => Err(limited("this address")),
        Commit::Refused(Slot::Ip) => Err(limited("from this client")),
        Commit::Refused(Slot::Link) => Err(ServiceError::internal(anyhow::anyhow!("a fresh sign-in token was taken"))),
    }
}

/// Exchanges a link for the address it was sent to, once. A used, lapsed,
/// unknown or other audience's link is `Unauthorized`, all alike.
pub async fn exchange(ctx: &Ctx, audience: Audience, token: &str) -> Result<Email, ServiceError> {
    let refused =
        || ServiceError::Unauthorized("this sign-in link is used, lapsed or not valid; ask for a new one".into());
    if token.is_empty() || token.len() > 200 {
        return Err(refused());
    }
    let now = ctx.clock.now();
    let rec = signin::consume(ctx, &signin::hash(token), audience.as_str(), now).await?.ok_or_else(refused)?;
    Email::parse(&rec.email).map_err(|e| ServiceError::internal(anyhow::anyhow!(e)))
}

/// A sign-in link for a mail the shop sends anyway (a renewal reminder):
/// derived from `seed` (the event's id) under the session key, so handing
/// the event on again in the same process makes the same link, stored
/// once. (The dispatch function holds no customer key: its random one
/// differs per cold start, so a hand-on there may store a second link; the
/// mail, stored once, carries the first, and the other lapses unused.)
/// Lapses after `hours`.
pub async fn link_for_mail(
    ctx: &Ctx,
    audience: Audience,
    email: &Email,
    seed: &str,
    hours: i64,
) -> Result<String, ServiceError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(ctx.settings.session_key.expose_secret().as_bytes())
        .map_err(ServiceError::internal)?;
    mac.update(format!("mail-link\n{}\n{seed}\n{}", audience.as_str(), email.as_str()).as_bytes());
    let token = format!("sl_{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    let now = ctx.clock.now();
    let rec = LinkRecord {
        audience: audience.as_str().into(),
        email: email.as_str().into(),
        created_at: now,
        expires_ms: now.plus_secs(hours * 3600).millis(),
        used: false,
        used_at: None,
    };
    // Stored before: the same link, kept as it was.
    signin::keep(ctx, &signin::hash(&token), &rec).await?;
    Ok(format!("{}{}?token={token}", ctx.settings.public_url, audience.page()))
}

#[cfg(test)]
mod tests;
