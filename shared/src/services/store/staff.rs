//! Staff accounts (`STAFF` / `EMAIL#{email}`), their sessions
//! (`STAFFSESSION#{sid}` / `SESSION`), the TOTP time steps each used
//! (`STAFFTOTP#{email}` / `STEP#{n}`) and recovery codes
//! (`STAFFRC#{email}#{enrolment}` / `{sha256}`), stored hashed. A session
//! names the account's `created_at` and `sessions_epoch`: an account
//! deleted and added again, or disabled and enabled again, does not bring
//! its old sessions back.

use serde::{Deserialize, Serialize};

use super::{Pages, put_new, read};
use crate::domain::{Role, Timestamp};
use crate::ports::{Change, Cond, Index, Key, Query, Write};
use crate::services::items::{to_item, value};
use crate::services::{Ctx, ServiceError};

const PK: &str = "STAFF";
/// Used time steps are kept past any window a code could be accepted in.
const STEP_KEEP_SECS: i64 = 86_400;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StaffRecord {
    pub email: String,
    pub role: Role,
    /// The actor who added the account (`staff:{sub}` or `config`).
    pub created_by: String,
    pub created_at: Timestamp,
    pub disabled: bool,
    /// The confirmed TOTP secret (hex); sign-in needs a code while set.
    #[serde(default)]
    pub totp_secret: Option<String>,
    /// The enrolment the recovery codes of `totp_secret` belong to.
    #[serde(default)]
    pub totp_enrolment: Option<String>,
    /// A secret handed out and not yet confirmed with a first code.
    #[serde(default)]
    pub totp_pending: Option<String>,
    #[serde(default)]
    pub totp_pending_enrolment: Option<String>,
    /// The enrolment in force when the pending one was started with a code
    /// of it; a pending secret replaces only that one.
    #[serde(default)]
    pub totp_pending_over: Option<String>,
    /// How many times the account was disabled. A session lives only while
    /// this is the count it began under, so enabling again revives none.
    #[serde(default)]
    pub sessions_epoch: i64,
}

impl StaffRecord {
    /// A new account: no second factor, no session ever ended.
    pub fn new(email: &str, role: Role, created_by: &str, created_at: Timestamp, disabled: bool) -> Self {
        StaffRecord {
            email: email.into(),
            role,
            created_by: created_by.into(),
            created_at,
            disabled,
            totp_secret: None,
            totp_enrolment: None,
            totp_pending: None,
            totp_pending_enrolment: None,
            totp_pending_over: None,
            sessions_epoch: 0,
        }
    }
}

pub fn key(email: &str) -> Key {
    Key::new(PK, format!("EMAIL#{email}"))
}

pub async fn get(ctx: &Ctx, email: &str) -> Result<Option<StaffRecord>, ServiceError> {
    read(ctx, &key(email)).await
}

pub fn all(ctx: &Ctx) -> Pages<'_, StaffRecord> {
    Pages::new(ctx, Query::new(Index::Table, PK).limit(100))
}

/// A new account, unless one exists.
pub fn add(rec: &StaffRecord) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&key(&rec.email), rec, None, None)?))
}

/// Role and disabled flag of an existing account; disabling ends every
/// session it has (`sessions_epoch`).
pub fn change(email: &str, role: Role, disabled: bool) -> Result<Write, ServiceError> {
    let mut changes = vec![Change::Set("role".into(), value(&role)?), Change::Set("disabled".into(), disabled.into())];
    if disabled {
        changes.push(Change::Add("sessions_epoch".into(), 1));
    }
    Ok(Write::Update { key: key(email), changes, cond: Some(Cond::Exists) })
}

pub fn remove(email: &str) -> Write {
    Write::Delete { key: key(email), cond: Some(Cond::Exists) }
}

/// The account as it is now, enabled, the same one (`created_at`) and not
/// disabled since (`sessions_epoch`).
pub fn is_live(email: &str, created_at: Timestamp, epoch: i64) -> Result<Write, ServiceError> {
    let same_epoch = Cond::Eq("sessions_epoch".into(), value(&epoch)?);
    // Accounts stored before the epoch existed have none: that is 0.
    let epoch_cond =
        if epoch == 0 { Cond::Or(vec![Cond::Absent("sessions_epoch".into()), same_epoch]) } else { same_epoch };
    let cond = Cond::And(vec![
        Cond::Exists,
        Cond::eq("disabled", false),
        Cond::Eq("created_at".into(), value(&created_at)?),
        epoch_cond,
    ]);
    Ok(Write::Check { key: key(email), cond })
}

/// A new secret waits for its first code (a confirmed one stays in force),
/// started over enrolment `over`: the one in force, proved by a code of
/// it (none: no factor in force).
pub fn start_totp(email: &str, secret_hex: &str, enrolment: &str, over: Option<&str>) -> Write {
    let over_change = match over {
        Some(e) => Change::Set("totp_pending_over".into(), e.into()),
        None => Change::Remove("totp_pending_over".into()),
    };
    Write::Update {
        key: key(email),
        changes: vec![
            Change::Set("totp_pending".into(), secret_hex.into()),
            Change::Set("totp_pending_enrolment".into(), enrolment.into()),
            over_change,
        ],
        cond: Some(Cond::Exists),
    }
}

/// The pending secret becomes the one sign-in asks for (refused if another
/// enrolment replaced it meanwhile).
pub fn confirm_totp(email: &str, secret_hex: &str, enrolment: &str) -> Write {
    Write::Update {
        key: key(email),
        changes: vec![
            Change::Set("totp_secret".into(), secret_hex.into()),
            Change::Set("totp_enrolment".into(), enrolment.into()),
            Change::Remove("totp_pending".into()),
            Change::Remove("totp_pending_enrolment".into()),
            Change::Remove("totp_pending_over".into()),
        ],
        cond: Some(Cond::And(vec![
            Cond::eq("totp_pending", secret_hex),
            Cond::eq("totp_pending_enrolment", enrolment),
        ])),
    }
}

/// Time step `step` of `email`'s codes, once: a replayed code fails here.
pub fn use_step(email: &str, step: i64, now: Timestamp) -> Result<Write, ServiceError> {
    let k = Key::new(format!("STAFFTOTP#{email}"), format!("STEP#{step}"));
    let item = to_item(&k, &serde_json::json!({"step": step}), None, Some(now.secs() + STEP_KEEP_SECS))?;
    Ok(put_new(item))
}

fn code_key(email: &str, enrolment: &str, code_hash: &str) -> Key {
    Key::new(format!("STAFFRC#{email}#{enrolment}"), code_hash)
}

pub fn add_code(email: &str, enrolment: &str, code_hash: &str) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&code_key(email, enrolment, code_hash), &serde_json::json!({}), None, None)?))
}

/// Spends a recovery code (refused if unknown or spent).
pub fn spend_code(email: &str, enrolment: &str, code_hash: &str) -> Write {
    Write::Delete { key: code_key(email, enrolment, code_hash), cond: Some(Cond::Exists) }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionRecord {
    pub sid: String,
    pub email: String,
    /// The account's `created_at` when the session began.
    pub account_created_at: Timestamp,
    /// The account's `sessions_epoch` when the session began.
    #[serde(default)]
    pub account_epoch: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

fn session_key(sid: &str) -> Key {
    Key::new(format!("STAFFSESSION#{sid}"), "SESSION")
}

pub fn open_session(rec: &SessionRecord) -> Result<Write, ServiceError> {
    let ttl = rec.expires_at.secs() + STEP_KEEP_SECS;
    Ok(put_new(to_item(&session_key(&rec.sid), rec, None, Some(ttl))?))
}

pub async fn session(ctx: &Ctx, sid: &str) -> Result<Option<SessionRecord>, ServiceError> {
    read(ctx, &session_key(sid)).await
}

pub fn end_session(sid: &str) -> Write {
    Write::Delete { key: session_key(sid), cond: Some(Cond::Exists) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::store::apply;
    use crate::testkit::stack::embedded_ctx;

    fn rec() -> StaffRecord {
        StaffRecord::new("ann@shop.example", Role::CustomerService, "config", Timestamp(1_000), false)
    }

    #[tokio::test]
    async fn an_account_goes_through_its_writes_and_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = embedded_ctx(dir.path());
        let r = rec();
        // Every attribute an update names is on the stored record.
        let item = to_item(&key(&r.email), &r, None, None).unwrap();
        for name in ["role", "disabled", "created_at", "sessions_epoch"] {
            assert!(item.contains_key(name), "{name}");
        }
        assert!(apply(&ctx, add(&r).unwrap()).await.unwrap());
        assert!(!apply(&ctx, add(&r).unwrap()).await.unwrap(), "added once");
        assert!(apply(&ctx, is_live(&r.email, r.created_at, 0).unwrap()).await.unwrap());
        assert!(!apply(&ctx, is_live(&r.email, Timestamp(2), 0).unwrap()).await.unwrap(), "another account");
        assert!(apply(&ctx, change(&r.email, Role::Admin, true).unwrap()).await.unwrap());
        assert!(!apply(&ctx, is_live(&r.email, r.created_at, 1).unwrap()).await.unwrap(), "disabled");
        assert!(apply(&ctx, change(&r.email, Role::Admin, false).unwrap()).await.unwrap());
        assert!(!apply(&ctx, is_live(&r.email, r.created_at, 0).unwrap()).await.unwrap(), "enabled: a new epoch");
        assert!(apply(&ctx, is_live(&r.email, r.created_at, 1).unwrap()).await.unwrap());
        assert!(apply(&ctx, change(&r.email, Role::Admin, true).unwrap()).await.unwrap());
        assert!(apply(&ctx, start_totp(&r.email, "aa", "e1", None)).await.unwrap());
        assert!(!apply(&ctx, confirm_totp(&r.email, "bb", "e1")).await.unwrap(), "not the pending secret");
        assert!(apply(&ctx, confirm_totp(&r.email, "aa", "e1")).await.unwrap());
        let got = get(&ctx, &r.email).await.unwrap().unwrap();
        assert_eq!((got.role, got.disabled, got.sessions_epoch), (Role::Admin, true, 2));
        assert_eq!((got.totp_secret.as_deref(), got.totp_enrolment.as_deref()), (Some("aa"), Some("e1")));
        assert_eq!((got.totp_pending, got.totp_pending_over), (None, None));
        assert!(apply(&ctx, start_totp(&r.email, "cc", "e2", Some("e1"))).await.unwrap());
        let got = get(&ctx, &r.email).await.unwrap().unwrap();
        assert_eq!(got.totp_pending_over.as_deref(), Some("e1"));
        assert_eq!(all(&ctx).read_all().await.unwrap(), vec![got]);

        assert!(apply(&ctx, use_step(&r.email, 7, Timestamp(0)).unwrap()).await.unwrap());
        assert!(!apply(&ctx, use_step(&r.email, 7, Timestamp(0)).unwrap()).await.unwrap(), "a step once");
        assert!(apply(&ctx, add_code(&r.email, "e1", "h").unwrap()).await.unwrap());
        assert!(apply(&ctx, spend_code(&r.email, "e1", "h")).await.unwrap());
        assert!(!apply(&ctx, spend_code(&r.email, "e1", "h")).await.unwrap(), "a code once");

        let s = SessionRecord {
            sid: "s1".into(),
            email: r.email.clone(),
            account_created_at: r.created_at,
            account_epoch: 2,
            created_at: Timestamp(5),
            expires_at: Timestamp(10_000),
        };
        assert!(apply(&ctx, open_session(&s).unwrap()).await.unwrap());
        assert_eq!(session(&ctx, "s1").await.unwrap(), Some(s));
        assert!(apply(&ctx, end_session("s1")).await.unwrap());
        assert_eq!(session(&ctx, "s1").await.unwrap(), None);
        assert!(apply(&ctx, remove(&r.email)).await.unwrap());
        assert_eq!(get(&ctx, &r.email).await.unwrap(), None);

        // An account stored before `sessions_epoch` existed is at epoch 0.
        let mut old = to_item(&key(&r.email), &r, None, None).unwrap();
        old.remove("sessions_epoch");
        assert!(apply(&ctx, put_new(old)).await.unwrap());
        assert_eq!(get(&ctx, &r.email).await.unwrap().map(|g| g.sessions_epoch), Some(0));
        assert!(apply(&ctx, is_live(&r.email, r.created_at, 0).unwrap()).await.unwrap());
        assert!(!apply(&ctx, is_live(&r.email, r.created_at, 1).unwrap()).await.unwrap());
    }
}
