//! `GET /admin/orders` and `GET /admin/orders/{id}`: filters, paging while
//! orders arrive, one order's records, and the actions each role is offered.

use reqwest::Method;
use serde_json::{Value, json};
use shared::http::auth::Role;
use stockroom_tests::{TestApp, problem, s, spawn_app};

use super::helpers::{buy, call};

async fn search(app: &TestApp, role: Role, query: &str) -> Value {
    let r = call(app, Method::GET, &format!("/admin/orders{query}"), Some(&app.staff_token(role)), None).await;
    assert_eq!(r.status(), 200, "orders {query}");
    r.json().await.unwrap()
}

fn order_ids(page: &Value) -> Vec<String> {
    page["orders"].as_array().unwrap().iter().map(|o| s(&o["order_id"])).collect()
}

/// Every page of a search, following `next_cursor`.
async fn pages(app: &TestApp, filter: &str, limit: usize, between: impl AsyncFn(usize)) -> Vec<String> {
    let (mut out, mut cursor, mut n) = (Vec::new(), None::<String>, 0);
    loop {
        let c = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = search(app, Role::CustomerService, &format!("?limit={limit}{filter}{c}")).await;
        assert!(page["orders"].as_array().unwrap().len() <= limit);
        out.extend(order_ids(&page));
        between(n).await;
        n += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

async fn open_order(app: &TestApp, email: &str) -> String {
    open_with(app, email, "stripe").await
}

async fn open_with(app: &TestApp, email: &str, provider: &str) -> String {
    let r = app.post("/checkout", json!({"email": email, "product_id": "bronze", "provider": provider})).await;
    assert_eq!(r.status(), 201);
    s(&r.json::<Value>().await.unwrap()["order_id"])
}

#[tokio::test]
async fn orders_are_found_by_status_email_and_date_newest_first() {
    let app = spawn_app().await;
    app.add_stock(6).await;
    let (fulfilled, ..) = buy(&app, "bronze").await;
    let partial = open_with(&app, "part@example.com", "nowpayments").await;
    app.sandbox_pay(&partial, json!({"amount": 1000})).await;
    let pending = open_order(&app, "wait@example.com").await;

    let by_status = search(&app, Role::InventoryManager, "?status=partially_paid").await;
    assert_eq!(order_ids(&by_status), vec![partial.clone()]);
    assert_eq!(by_status["orders"][0]["status"], "partially_paid");
    assert_eq!(order_ids(&search(&app, Role::Admin, "?status=fulfilled").await), vec![fulfilled.clone()]);
    assert_eq!(order_ids(&search(&app, Role::Admin, "?status=backordered").await), Vec::<String>::new());
    let buyer = search(&app, Role::Admin, "?email=BUYER@example.com").await;
    assert_eq!(order_ids(&buyer), vec![fulfilled.clone()], "emails match as the checkout normalised them");
    let both = search(&app, Role::Admin, "?email=part@example.com&status=pending").await;
    assert_eq!(order_ids(&both), Vec::<String>::new(), "the buyer's one order is partially paid");
    let all = search(&app, Role::Admin, "").await;
    assert_eq!(order_ids(&all), vec![pending.clone(), partial.clone(), fulfilled.clone()], "newest first");

    let created = |id: &str| {
        let o = all["orders"].as_array().unwrap().iter().find(|o| o["order_id"] == id).unwrap();
        o["created_at"].as_i64().unwrap()
    };
    let since = created(&partial);
    let from_partial = search(&app, Role::Admin, &format!("?since={since}")).await;
    assert_eq!(order_ids(&from_partial), vec![pending.clone(), partial.clone()]);
    let upto = search(&app, Role::Admin, &format!("?until={since}")).await;
    assert_eq!(order_ids(&upto), vec![partial, fulfilled]);
}

#[tokio::test]
async fn pages_have_no_duplicates_or_gaps_while_orders_arrive() {
    let app = spawn_app().await;
    app.add_stock(20).await;
    let mut before = Vec::new();
    for n in 0..7 {
        before.push(open_order(&app, &format!("p{n}@example.com")).await);
    }
    before.reverse();
    let arrived = std::cell::RefCell::new(Vec::new());
    let add = async |page: usize| {
        if page < 2 {
            let id = open_order(&app, &format!("late{page}@example.com")).await;
            arrived.borrow_mut().push(id);
        }
    };
    assert_eq!(pages(&app, "", 3, add).await, before, "all orders, pages of 3");
    assert_eq!(arrived.borrow().len(), 2);
    let now_pending = pages(&app, "&status=pending", 2, async |_| {}).await;
    assert_eq!(now_pending.len(), 9);
    assert_eq!(&now_pending[2..], &before[..], "the late ones on top, then the rest once each");
}

#[tokio::test]
async fn one_order_shows_its_records_and_the_actions_each_role_may_take() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (order_id, _, sub_id, files) = buy(&app, "bronze").await;
    let get = async |role: Role| {
        let r = call(&app, Method::GET, &format!("/admin/orders/{order_id}"), Some(&app.staff_token(role)), None).await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    };
    let names = |v: &Value| -> Vec<String> { v["actions"].as_array().unwrap().iter().map(|a| s(&a["name"])).collect() };
    let d = get(Role::Admin).await;
    assert_eq!(d["order"]["status"], "fulfilled");
    assert_eq!(d["payment"]["provider"], "stripe");
    assert!(!d["receipts"].as_array().unwrap().is_empty(), "the payment event's receipt: {d}");
    assert_eq!(d["subscription"]["subscription_id"], sub_id.as_str());
    let sales: Vec<&Value> = d["ledger"].as_array().unwrap().iter().filter(|e| e["kind"] == "sale").collect();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0]["file"], files[0].as_str());
    assert_eq!(names(&d), ["refund", "deactivate_credits", "revoke", "delete_subscription"]);
    assert_eq!(d["actions"][0]["path"], format!("/admin/orders/{order_id}/refund"));
    assert_eq!(names(&get(Role::CustomerService).await), ["deactivate_credits", "revoke"]);
    assert_eq!(names(&get(Role::InventoryManager).await), Vec::<String>::new());

    assert_eq!(app.post_admin(&format!("/admin/orders/{order_id}/refund"), json!({})).await.status(), 200);
    let after = get(Role::Admin).await;
    assert_eq!(after["order"]["status"], "refunded");
    assert_eq!(names(&after), Vec::<String>::new(), "nothing left to do: {}", after["actions"]);
}

#[tokio::test]
async fn bad_searches_are_400_and_unknown_orders_404() {
    let app = spawn_app().await;
    let token = app.staff_token(Role::CustomerService);
    for q in [
        "?status=lost",
        "?limit=0",
        "?limit=201",
        "?email=nobody",
        "?since=yesterday",
        "?cursor=abc",
        "?since=2000&until=1000",
    ] {
        let (status, p) =
            problem(call(&app, Method::GET, &format!("/admin/orders{q}"), Some(&token), None).await).await;
        assert_eq!(status, 400, "{q}: {p}");
    }
    let (status, _) =
        problem(call(&app, Method::GET, "/admin/orders/01J0000000000000000NOORDER", Some(&token), None).await).await;
    assert_eq!(status, 404);
}
