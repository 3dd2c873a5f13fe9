//! `GET /admin/analytics` on a fixture with known sales spread over days
//! with the sandbox clock: counts, revenue, velocity, cover, files
//! returning, reorder points and the per-day series.

use reqwest::Method;
use serde_json::Value;
use shared::http::auth::Role;
use stockroom_tests::{TestApp, problem, spawn_app};

use super::helpers::{advance, buy, call};

const DAY: i64 = 86_400;

async fn analytics(app: &TestApp, query: &str) -> Value {
    let token = app.staff_token(Role::InventoryManager);
    let r = call(app, Method::GET, &format!("/admin/analytics{query}"), Some(&token), None).await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

fn plan<'a>(a: &'a Value, id: &str) -> &'a Value {
    a["products"].as_array().unwrap().iter().find(|p| p["product_id"] == id).unwrap()
}

/// The days that sold something: (index, sales, files, USD revenue).
fn busy_days(f: &Value) -> Vec<(usize, i64, i64, i64)> {
    let days = f["days"].as_array().unwrap();
    days.iter()
        .enumerate()
        .filter(|(_, d)| d["sales"].as_i64() > Some(0))
        .map(|(i, d)| {
            (i, d["sales"].as_i64().unwrap(), d["files"].as_i64().unwrap(), d["revenue"]["USD"].as_i64().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn analytics_add_up_on_known_sales() {
    let app = spawn_app().await;
    app.add_stock(20).await;
    buy(&app, "gold").await; // 3 files, 18 days before the reading
    advance(&app, 15 * DAY).await;
    buy(&app, "bronze").await; // 1 file, 3 days before
    advance(&app, DAY).await;
    buy(&app, "silver").await; // 2 files each, 2 days before
    buy(&app, "silver").await;
    advance(&app, 2 * DAY).await;

    let a = analytics(&app, "?window_days=10").await;
    assert_eq!(a["window_days"], 10);
    assert_eq!((a["lead_time_days"].as_i64(), a["safety_stock"].as_i64()), (Some(7), Some(10)));
    assert_eq!(a["available"], 20 - 3 - 1 - 4);
    let all = &a["overall"];
    assert_eq!((all["sales"].as_i64(), all["files_sold"].as_i64()), (Some(3), Some(5)));
    assert_eq!(all["revenue"], serde_json::json!({"USD": 3000 + 2 * 5500}));
    assert_eq!(all["velocity"], 0.5);
    assert_eq!(all["days_of_cover"], 24.0, "12 available / 0.5 a day");
    assert_eq!(all["reorder_point"], 4 + 10, "0.5 x 7 days, rounded up, + 10");
    assert_eq!(all["returning_files"], 0, "nothing ends within 10 days");
    assert_eq!(all["days"].as_array().unwrap().len(), 10);
    assert_eq!(busy_days(all), vec![(6, 1, 1, 3000), (7, 2, 4, 11000)]);

    let silver = plan(&a, "silver");
    assert_eq!((silver["sales"].as_i64(), silver["files_sold"].as_i64()), (Some(2), Some(4)));
    assert_eq!((silver["velocity"].as_f64(), silver["days_of_cover"].as_f64()), (Some(0.4), Some(30.0)));
    assert_eq!(silver["reorder_point"], 3 + 10);
    let bronze = plan(&a, "bronze");
    assert_eq!((bronze["velocity"].as_f64(), bronze["days_of_cover"].as_f64()), (Some(0.1), Some(120.0)));
    let gold = plan(&a, "gold");
    assert_eq!(
        (gold["sales"].as_i64(), gold["days_of_cover"].clone()),
        (Some(0), Value::Null),
        "sold before the window"
    );
    assert_eq!(gold["reorder_point"], 10);
    assert_eq!(a["reads"]["orders"], 3);

    let month = analytics(&app, "").await;
    assert_eq!(month["window_days"], 30, "the default window");
    let all = &month["overall"];
    assert_eq!((all["sales"].as_i64(), all["files_sold"].as_i64()), (Some(4), Some(8)));
    assert_eq!(all["revenue"]["USD"], 8000 + 3000 + 2 * 5500);
    assert_eq!(all["returning_files"], 8, "every plan's grace ends within 30 days");
    assert_eq!(plan(&month, "gold")["returning_files"], 3);
    assert_eq!(month["reads"]["subscriptions"], 4);
}

#[tokio::test]
async fn bad_windows_are_400() {
    let app = spawn_app().await;
    let token = app.staff_token(Role::CustomerService);
    for q in ["?window_days=0", "?window_days=366", "?window_days=x", "?window_days=-1"] {
        let (status, _) =
            problem(call(&app, Method::GET, &format!("/admin/analytics{q}"), Some(&token), None).await).await;
        assert_eq!(status, 400, "{q}");
    }
}
