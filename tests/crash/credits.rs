//! Credits crashed mid-deactivation and mid-job: trying again settles each
//! transfer once.

use serde_json::{Value, json};
use shared::services::credits;
use shared::services::faults::Mode;
use stockroom_tests::{TestApp, spawn_app};

use super::books::{MODES, advance, balance, check, crash, credit_entries};
use super::revoke::bought;

pub const POINTS: &[&str] = &["credits.after_flag", "credits.after_post"];

const HOLD: i64 = 48 * 3600 + 60;

async fn wait_earned(app: &TestApp, n: usize) {
    for _ in 0..200 {
        if credit_entries(app, "earn").await == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("never earned {n}");
}

async fn post_job(app: &TestApp) -> Value {
    let r = app.post_admin("/admin/credits/post", json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn deactivation_crashed(mode: Mode) {
    let why = format!("credits.after_flag {mode:?}");
    let mut app = spawn_app().await;
    let stock = app.add_stock(3).await;
    let (order, token, _) = bought(&app, "gold").await;
    wait_earned(&app, 1).await;
    advance(&app, HOLD).await;
    assert_eq!(post_job(&app).await["posted"], 1);
    let id = shared::domain::OrderId::parse(&order).expect("an order id");
    crash(&mut app, "credits.after_flag", mode, HOLD, move |ctx| async move {
        credits::deactivate_order(&ctx, &id, "staff:test").await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(balance(&app).await, (80, 0), "{why}: flagged, not yet reversed");
    let r = app.post_admin(&format!("/admin/orders/{order}/deactivate"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["credits"], "reversed", "{why}");
    let again: Value =
        app.post_admin(&format!("/admin/orders/{order}/deactivate"), json!({})).await.json().await.unwrap();
    assert_eq!(again["credits"], "unchanged", "{why}");
    assert_eq!(credit_entries(&app, "reverse").await, 1, "{why}");
    assert_eq!(balance(&app).await, (0, 0), "{why}");
    assert_eq!(app.order(&order, &token).await["status"], "fulfilled", "{why}: the purchase itself stands");
    check(&app, &stock, &why).await;
}

async fn job_crashed(mode: Mode) {
    let why = format!("credits.after_post {mode:?}");
    let mut app = spawn_app().await;
    let stock = app.add_stock(2).await;
    bought(&app, "bronze").await;
    bought(&app, "bronze").await;
    wait_earned(&app, 2).await;
    advance(&app, HOLD).await;
    crash(&mut app, "credits.after_post", mode, HOLD, |ctx| async move {
        credits::post_due(&ctx, "schedule:credits").await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(balance(&app).await, (30, 30), "{why}: one posted before the crash");
    assert_eq!(post_job(&app).await["posted"], 1, "{why}: the next run posts the other");
    assert_eq!(post_job(&app).await["posted"], 0, "{why}");
    assert_eq!(credit_entries(&app, "post").await, 2, "{why}");
    assert_eq!(balance(&app).await, (60, 0), "{why}");
    check(&app, &stock, &why).await;
}

#[tokio::test]
async fn credits_crashed_at_every_point_settle_once() {
    for mode in MODES {
        deactivation_crashed(mode).await;
        job_crashed(mode).await;
    }
}
