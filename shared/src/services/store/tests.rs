//! Round trips, one per record kind: a record goes in through its store
//! functions and comes back equal, and every attribute an update or a
//! condition names is a field of the serialised record (so renaming a
//! field without its writes fails here).

use serde::Serialize;
use serde_json::Value;

use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Write};
use crate::services::Ctx;
use crate::testkit::stack::embedded_ctx;

mod kinds;

fn ctx() -> (tempfile::TempDir, Ctx) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = embedded_ctx(dir.path());
    (dir, ctx)
}

fn cond_names(c: &Cond, out: &mut Vec<String>) {
    match c {
        Cond::Exists | Cond::NotExists => {}
        Cond::Eq(n, _) | Cond::Ne(n, _) | Cond::In(n, _) | Cond::Absent(n) => out.push(n.clone()),
        Cond::Ge(n, _) | Cond::Le(n, _) => out.push(n.clone()),
        Cond::And(all) | Cond::Or(all) => all.iter().for_each(|c| cond_names(c, out)),
    }
}

/// The record attributes a write touches or tests (index attributes aside).
fn names(w: &Write) -> Vec<String> {
    let mut out = Vec::new();
    let cond = match w {
        Write::Update { changes, cond, .. } => {
            for c in changes {
                match c {
                    Change::Set(n, _) | Change::Add(n, _) | Change::Remove(n) => out.push(n.clone()),
                }
            }
            cond.as_ref()
        }
        Write::Put { cond, .. } | Write::Delete { cond, .. } => cond.as_ref(),
        Write::Check { cond, .. } => Some(cond),
    };
    if let Some(c) = cond {
        cond_names(c, &mut out);
    }
    out.retain(|n| n != GSI1PK && n != GSI1SK);
    out
}

/// Every attribute `writes` name is a field of `record` as serialised.
fn fields_exist<T: Serialize>(record: &T, writes: &[Write]) {
    let Value::Object(fields) = serde_json::to_value(record).expect("serialise") else { panic!("not an object") };
    for w in writes {
        for n in names(w) {
            assert!(fields.contains_key(&n), "a write names '{n}', which {} does not have", std::any::type_name::<T>());
        }
    }
}

/// Runs writes one by one, as the store would.
async fn run(ctx: &Ctx, writes: Vec<Write>) {
    ctx.records.transact(writes).await.expect("writes apply");
}
