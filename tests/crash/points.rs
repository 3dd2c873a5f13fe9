//! The one list of crash points is the list the source uses, and each of
//! the points of assign, revoke, refund and credits has a crash test here.

use std::collections::BTreeSet;
use std::path::Path;

use shared::services::faults::POINTS;

/// Every `hit("...")` name in the shared crate's source (faults.rs's own
/// unit tests aside).
fn hits_in(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            hits_in(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("services/faults.rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            for piece in text.split("faults.hit(\"").skip(1) {
                out.insert(piece.split('"').next().unwrap_or_default().to_string());
            }
        }
    }
}

#[test]
fn the_list_of_points_is_every_point_in_the_source() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src");
    let mut found = BTreeSet::new();
    hits_in(&src, &mut found);
    let listed: BTreeSet<String> = POINTS.iter().map(|p| p.to_string()).collect();
    assert_eq!(found, listed, "faults::POINTS must name exactly the points the source hits");
    assert!(POINTS.len() >= 10);
}

/// The points this suite crashes at, by the test that does.
pub const COVERED: &[(&str, &[&str])] = &[
    ("assign", super::assign::POINTS),
    ("revoke", super::revoke::POINTS),
    ("refund", super::refund::POINTS),
    ("credits", super::credits::POINTS),
];

/// Points other suites crash at (staff stock changes, seats, usage, the
/// lost fulfilment message, a failing step of a scheduled job).
const ELSEWHERE: &[&str] = &[
    "adjust.after_commit",     // tests/staff/crash.rs
    "adjust.after_first_move", // tests/staff/crash.rs
    "adjust.after_move",       // tests/staff/crash.rs
    "seats.after_begin",       // tests/usage/seats.rs
    "seats.after_move",        // tests/usage/seats.rs
    "usage.read",              // tests/usage/quotas.rs
    "webhook.enqueue",         // tests/purchase/durability.rs, reconcile.rs
    "expire.verify",           // shared services/schedule.rs, functions/expire tests
    "reconcile.repair",        // shared services/reconcile/tests.rs
    "dispatch.after_queue",    // shared services/dispatch_tests.rs
    "dispatch.after_fan_out",  // shared services/dispatch_tests.rs
];

#[test]
fn every_point_has_a_crash_test() {
    let mut covered: BTreeSet<&str> = COVERED.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    assert!(covered.len() >= 10, "at least ten points across assign, revoke, refund and credits");
    covered.extend(ELSEWHERE);
    let all: BTreeSet<&str> = POINTS.iter().copied().collect();
    assert_eq!(covered, all);
}
