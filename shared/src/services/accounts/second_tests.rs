//! Replacing a factor in force takes a code of it, also against a race: an
//! enrolment begun (without a code) before the factor was confirmed cannot
//! be confirmed over it.

use super::*;
use crate::domain::Role;
use crate::ports::{Change, Write};
use crate::services::store::apply;
use crate::services::store::staff::key;
use crate::testkit::stack::embedded_ctx;

const ANN: &str = "ann@shop.example";

fn code_now(secret: &[u8]) -> String {
    format!("{:06}", totp::code_at(secret, app_time().div_euclid(totp::STEP_SECS)))
}

#[tokio::test]
async fn an_enrolment_begun_before_the_factor_was_on_cannot_replace_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = embedded_ctx(dir.path());
    let rec = StaffRecord::new(ANN, Role::Admin, "config", Timestamp(1_000), false);
    assert!(apply(&ctx, staff::add(&rec).unwrap()).await.unwrap());
    // A stolen session starts an enrolment while no factor is on...
    let theirs = [7u8; 20];
    assert!(apply(&ctx, staff::start_totp(ANN, &hex::encode(theirs), "theirs", None)).await.unwrap());
    // ...and the owner's factor is put in force before it is confirmed.
    let owners = Write::Update {
        key: key(ANN),
        changes: vec![
            Change::Set("totp_secret".into(), hex::encode([9u8; 20]).into()),
            Change::Set("totp_enrolment".into(), "owners".into()),
        ],
        cond: None,
    };
    assert!(apply(&ctx, owners).await.unwrap());

    let err = confirm(&ctx, ANN, &code_now(&theirs), "staff:ann@shop.example").await.unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err:?}");
    let now = staff::get(&ctx, ANN).await.unwrap().unwrap();
    assert_eq!(now.totp_enrolment.as_deref(), Some("owners"), "the owner's factor stays");
}

#[tokio::test]
async fn without_a_code_a_factor_in_force_is_not_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = embedded_ctx(dir.path());
    let rec = StaffRecord::new(ANN, Role::Admin, "config", Timestamp(1_000), false);
    assert!(apply(&ctx, staff::add(&rec).unwrap()).await.unwrap());
    let first = enrol(&ctx, ANN, None).await.expect("a first enrolment needs no code");
    let secret = hex::decode(staff::get(&ctx, ANN).await.unwrap().unwrap().totp_pending.unwrap()).unwrap();
    confirm(&ctx, ANN, &code_now(&secret), "staff:ann@shop.example").await.unwrap();
    let before = staff::get(&ctx, ANN).await.unwrap();

    for code in [None, Some(""), Some("not-a-code")] {
        let err = enrol(&ctx, ANN, code).await.map(|_| ()).unwrap_err();
        assert!(matches!(err, ServiceError::BadInput(_)), "{code:?}: {err:?}");
    }
    assert_eq!(staff::get(&ctx, ANN).await.unwrap(), before, "nothing changed");
    let again = enrol(&ctx, ANN, Some(&first.recovery_codes[1])).await.expect("a recovery code proves it");
    assert_ne!(again.secret, first.secret);
}
