//! Revoke crashed at each step boundary: trying again (after a failure) or
//! reconcile alone (after the process died) puts every file back once.

use serde_json::json;
use shared::domain::EndReason;
use shared::services::faults::Mode;
use shared::services::revoke;
use stockroom_tests::{TestApp, s, spawn_app};

use super::books::{MODES, advance, check, crash, reconcile_finds_no_damage};

pub const POINTS: &[&str] = &["revoke.after_begin", "revoke.after_first_move", "revoke.after_move"];

/// A fulfilled new purchase: (order, token, subscription).
pub async fn bought(app: &TestApp, product: &str) -> (String, String, String) {
    let body = json!({"email": super::books::EMAIL, "product_id": product, "provider": "stripe", "new": true});
    let r = app.post("/checkout", body).await;
    assert_eq!(r.status(), 201);
    let c: serde_json::Value = r.json().await.unwrap();
    let (order_id, token) = (s(&c["order_id"]), s(&c["order_token"]));
    app.sandbox_pay(&order_id, json!({})).await;
    let order = app.wait_for(&order_id, &token, "fulfilled").await;
    (order_id, token, s(&order["subscription"]["id"]))
}

async fn revoke_crashed_at(point: &'static str, mode: Mode) {
    let why = format!("{point} {mode:?}");
    let mut app = spawn_app().await;
    let stock = app.add_stock(3).await;
    let (_, _, sub) = bought(&app, "silver").await;
    let id = sub.clone();
    crash(&mut app, point, mode, 0, move |ctx| async move {
        revoke::revoke(&ctx, &id, EndReason::Revoked, "staff:test").await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    match mode {
        // Staff try again.
        Mode::Fail => {
            let again = revoke::revoke(app.ctx(), &sub, EndReason::Revoked, "staff:test").await.unwrap();
            assert!(matches!(again, revoke::RevokeOutcome::Revoked { .. }), "{why}: {again:?}");
        }
        // Nobody does: reconcile finishes the stale intent.
        Mode::Abort => {
            advance(&app, 600).await;
            let r = reconcile_finds_no_damage(&app, &why).await;
            assert_eq!(r["stale_intents"], 1, "{why}: {r}");
        }
    }
    assert_eq!(app.entitlement(&sub).await["state"], "revoked", "{why}");
    assert_eq!(app.keys("unused/").await.len(), 3, "{why}");
    assert_eq!(app.ledger_count("revoke").await, 2, "{why}: booked once");
    check(&app, &stock, &why).await;
}

#[tokio::test]
async fn revoke_crashed_at_every_point_finishes_once() {
    for point in POINTS {
        for mode in MODES {
            revoke_crashed_at(point, mode).await;
        }
    }
}
