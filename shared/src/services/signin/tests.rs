use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::*;
use crate::adapters::embedded::open_embedded;
use crate::ports::clock::OffsetClock;
use crate::ports::{Mail, MailError, Mailer};
use crate::services::store::mails;
use crate::testkit::stack::local_ctx;

#[derive(Default)]
struct Caught(Mutex<Vec<Mail>>);

#[async_trait]
impl Mailer for Caught {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0.lock().expect("lock").push(mail.clone());
        Ok(())
    }
}

fn ctx(dir: &std::path::Path) -> (Ctx, Arc<OffsetClock>, Arc<Caught>) {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone()).expect("embedded");
    let mut ctx =
        local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock.clone());
    let caught = Arc::new(Caught::default());
    ctx.mailer = caught.clone();
    (ctx, clock, caught)
}

fn token_in(mail: &Mail) -> String {
    let at = mail.text.find("token=").expect("a link in the mail") + "token=".len();
    mail.text[at..].split_whitespace().next().expect("token").to_string()
}

fn ann() -> Email {
    Email::parse("ann@example.com").expect("email")
}

#[tokio::test]
async fn a_link_is_mailed_at_once_stored_hashed_and_works_once() {
    let dir = tempfile::tempdir().expect("dir");
    let (ctx, _, caught) = ctx(dir.path());
    request_link(&ctx, Audience::Customer, &ann(), Some("10.0.0.1")).await.expect("link");
    let mail = caught.0.lock().expect("lock").pop().expect("mailed in the request");
    assert_eq!(mail.to, ["ann@example.com"]);
    let token = token_in(&mail);
    assert!(mail.text.contains("/account?token="), "{}", mail.text);

    // The table holds the hash, and the sent mail record no body.
    assert!(ctx.records.get(&signin::key(&token)).await.expect("get").is_none());
    assert!(ctx.records.get(&signin::key(&signin::hash(&token))).await.expect("get").is_some());
    let sent = mails::page(&ctx, mails::MailStatus::Sent, None, 10).await.expect("mails").0;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].text.is_empty() && sent[0].html.is_empty(), "the link is not kept once sent");

    assert!(matches!(exchange(&ctx, Audience::Staff, &token).await, Err(ServiceError::Unauthorized(_))));
    assert_eq!(exchange(&ctx, Audience::Customer, &token).await.expect("first"), ann());
    assert!(matches!(exchange(&ctx, Audience::Customer, &token).await, Err(ServiceError::Unauthorized(_))));
}

#[tokio::test]
async fn a_link_lapses_after_fifteen_minutes() {
    let dir = tempfile::tempdir().expect("dir");
    let (ctx, clock, caught) = ctx(dir.path());
    request_link(&ctx, Audience::Customer, &ann(), None).await.expect("link");
    let token = token_in(&caught.0.lock().expect("lock")[0]);
    clock.advance(LINK_MINUTES * 60);
    assert!(matches!(exchange(&ctx, Audience::Customer, &token).await, Err(ServiceError::Unauthorized(_))));
}

#[tokio::test]
async fn requests_past_the_limits_are_refused_and_send_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut ctx, clock, caught) = ctx(dir.path());
    ctx.settings.signin_per_email = 2;
    ctx.settings.signin_per_ip = 3;
    for _ in 0..2 {
        request_link(&ctx, Audience::Customer, &ann(), Some("10.0.0.1")).await.expect("within the limit");
    }
    let Err(ServiceError::RateLimited { retry_after_secs, .. }) =
        request_link(&ctx, Audience::Customer, &ann(), Some("10.0.0.2")).await
    else {
        panic!("a third link for one email in a window")
    };
    assert!((1..=WINDOW_SECS as u64).contains(&retry_after_secs));
    let bob = Email::parse("bob@example.com").expect("email");
    request_link(&ctx, Audience::Customer, &bob, Some("10.0.0.1")).await.expect("the address's third");
    let carl = Email::parse("carl@example.com").expect("email");
    let refused = request_link(&ctx, Audience::Customer, &carl, Some("10.0.0.1")).await;
    assert!(matches!(refused, Err(ServiceError::RateLimited { .. })), "the address's fourth");
    assert_eq!(caught.0.lock().expect("lock").len(), 3, "refused requests send nothing");
    clock.advance(WINDOW_SECS);
    request_link(&ctx, Audience::Customer, &ann(), Some("10.0.0.1")).await.expect("a new window");
}

#[tokio::test]
async fn sessions_verify_until_they_lapse_and_forgeries_do_not() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut ctx, clock, _) = ctx(dir.path());
    let s = session::mint(&ctx, &ann()).expect("mint");
    assert_eq!(session::verify(&ctx, &s.session_token).expect("valid"), ann());

    let staff_key = secrecy::SecretString::from(crate::config::LOCAL_JWT_SECRET);
    let staff = crate::http::auth::mint(&staff_key, "ann@example.com", crate::http::auth::Role::Admin, 4_000_000_000)
        .expect("staff token");
    assert!(session::verify(&ctx, &staff).is_err(), "a staff token is no session");
    let key = std::mem::replace(&mut ctx.settings.session_key, secrecy::SecretString::from("another-key"));
    let forged = session::mint(&ctx, &ann()).expect("mint");
    ctx.settings.session_key = key;
    assert!(session::verify(&ctx, &forged.session_token).is_err(), "signed with another key");

    clock.advance(ctx.settings.session_millis / 1000);
    assert!(session::verify(&ctx, &s.session_token).is_err(), "lapsed");
}

#[tokio::test]
async fn a_mail_link_is_the_same_for_the_same_seed_and_works_once() {
    let dir = tempfile::tempdir().expect("dir");
    let (ctx, _, _) = ctx(dir.path());
    let a = link_for_mail(&ctx, Audience::Customer, &ann(), "ev1", 72).await.expect("link");
    assert_eq!(a, link_for_mail(&ctx, Audience::Customer, &ann(), "ev1", 72).await.expect("again"));
    assert_ne!(a, link_for_mail(&ctx, Audience::Customer, &ann(), "ev2", 72).await.expect("other"));
    let token = a.split("token=").nth(1).expect("token");
    assert_eq!(exchange(&ctx, Audience::Customer, token).await.expect("once"), ann());
    assert!(exchange(&ctx, Audience::Customer, token).await.is_err());
}
