//! The dispatcher: hands on what the outbox holds, at least once. The
//! local stack runs it a few times a second; on AWS DynamoDB Streams invoke
//! it per new event, and the expire schedule runs it for events left over
//! (older than `STALE_MILLIS`).

use super::events::Envelope;
use super::signin::{self, Audience};
use super::store::outbox::{self, EventItem};
use super::{Ctx, ServiceError, hooks, mail};
use crate::domain::Email;
use crate::ports::RecordError;

/// Hands on every event in the outbox at least `older_than_millis` old,
/// oldest first: to the events
/// queue (the bot engine and other consumers), then out of the outbox.
/// At least once: a crash before the last step hands it on again.
/// Returns how many went.
pub async fn dispatch_pending(ctx: &Ctx, older_than_millis: i64) -> Result<u64, ServiceError> {
    let upto = ctx.clock.now().plus_millis(-older_than_millis);
    let mut n = 0;
    // Dispatching takes events out of the index: read from its start again.
    loop {
        let Some(page) = outbox::pending(ctx, 100).next_page().await? else { return Ok(n) };
        let due: Vec<EventItem> = page.into_iter().take_while(|e| e.at <= upto).collect();
        if due.is_empty() {
            return Ok(n);
        }
        for item in due {
            dispatch(ctx, item.into()).await?;
            n += 1;
        }
    }
}

/// How long an event may wait in the outbox before the schedule's safety
/// net hands it on (the dispatcher normally does within a second).
pub const STALE_MILLIS: i64 = 60_000;

/// Hands one event on: to the events queue (the bot engine and other
/// consumers) and to every merchant endpoint that wants it; then takes it
/// out of the outbox.
pub async fn dispatch(ctx: &Ctx, env: Envelope) -> Result<(), ServiceError> {
    let mut body = serde_json::json!({"type": env.kind, "at": env.timestamp, "data": env.data});
    body["id"] = env.id.clone().into();
    ctx.events.send(body.to_string()).await?;
    ctx.faults.hit("dispatch.after_queue")?;
    hooks::fan_out(ctx, &env).await?;
    mail::fan_out(ctx, &with_links(ctx, env.clone()).await?).await?;
    ctx.faults.hit("dispatch.after_fan_out")?;
    if let Some(w) = outbox::dispatched(&env.id) {
        match ctx.records.transact(vec![w]).await {
            // Already gone (its TTL, or a second dispatcher): nothing to undo.
            Ok(()) | Err(RecordError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Reminders whose renewal link signs the buyer in.
const SIGN_IN_TO_RENEW: &[&str] = &["subscription.expiring_soon", "subscription.grace_started"];
/// How long that link works: a reminder is read later than a link asked
/// for (the first goes 72 h before the end).
pub const RENEW_LINK_HOURS: i64 = 72;

/// The buyer's own links, for their mails only (never in the event log or a
/// merchant webhook): the order's page with its token, and where to renew
/// (for a reminder, a single-use sign-in link to the account page, made
/// once per event).
async fn with_links(ctx: &Ctx, mut env: Envelope) -> Result<Envelope, ServiceError> {
    let base = &ctx.settings.public_url;
    if let Some(order_id) = env.data["order_id"].as_str().map(str::to_string) {
        let token = ctx.settings.order_tokens().sign(&order_id);
        env.data["order_url"] = format!("{base}/shop#order={order_id}&token={token}").into();
    }
    if let Some(sid) = env.data["subscription_id"].as_str().map(str::to_string) {
        let email = env.data["email"].as_str().and_then(|e| Email::parse(e).ok());
        env.data["renew_url"] = match email {
            Some(email) if SIGN_IN_TO_RENEW.contains(&env.kind.as_str()) => {
                let link = signin::link_for_mail(ctx, Audience::Customer, &email, &env.id, RENEW_LINK_HOURS).await?;
                format!("{link}&renew={sid}").into()
            }
            _ => format!("{base}/shop#renew={sid}").into(),
        };
    }
    Ok(env)
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
