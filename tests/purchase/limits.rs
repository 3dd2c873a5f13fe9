use serde_json::{Value, json};
use stockroom_tests::{problem, s, spawn_app, spawn_app_with};

fn body(email: &str, product: &str, new: bool) -> Value {
    json!({"email": email, "product_id": product, "provider": "nowpayments", "new": new})
}

#[tokio::test]
async fn a_repeated_checkout_never_hands_out_the_open_orders_token() {
    let app = spawn_app().await;
    app.add_stock(5).await;
    let first: Value = app.post("/checkout", body("ann@example.com", "bronze", false)).await.json().await.unwrap();
    let (status, p) = problem(app.post("/checkout", body("ann@example.com", "bronze", false)).await).await;
    assert_eq!(status, 409, "{p}");
    assert!(s(&p["type"]).ends_with("/order-open"), "{p}");
    assert!(!p.to_string().contains(&s(&first["order_token"])), "the token is never in the answer");
    assert_eq!(app.ledger_count("hold").await, 1, "the repeat held nothing");
    // The link goes to the owner's email (an event the mailer sends).
    let asked = app.events("order.link_requested").await;
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0]["order_id"].clone(), asked[0]["email"].clone()),
        (first["order_id"].clone(), json!("ann@example.com"))
    );
}

/// Repeats cannot flood the owner's inbox (nor the shop's mail queue,
/// sent oldest first at a bounded rate): one link mail per open order per
/// ten minutes, however often the checkout is repeated.
#[tokio::test]
async fn repeated_checkouts_mail_the_open_orders_link_once_per_window() {
    let app = spawn_app().await;
    app.add_stock(5).await;
    let first: Value = app.post("/checkout", body("ann@example.com", "bronze", false)).await.json().await.unwrap();
    let repeat = || async {
        let (status, p) = problem(app.post("/checkout", body("ann@example.com", "bronze", false)).await).await;
        assert_eq!(status, 409, "{p}");
        assert!(s(&p["type"]).ends_with("/order-open"), "{p}");
    };
    for _ in 0..10 {
        repeat().await;
    }
    assert_eq!(app.events("order.link_requested").await.len(), 1, "one event for every repeat in the window");
    app.post("/sandbox/clock", json!({"advance_seconds": 9 * 60})).await;
    repeat().await;
    assert!(app.events("order.link_requested").await.is_empty(), "still within the window");
    app.post("/sandbox/clock", json!({"advance_seconds": 2 * 60})).await;
    repeat().await;
    repeat().await;
    let later = app.events("order.link_requested").await;
    assert_eq!(later.len(), 1, "one more once the window passed");
    assert_eq!(later[0]["order_id"], first["order_id"]);
    // Their mails: one each.
    let subject = format!("Your link to order {}", s(&first["order_id"]));
    let links = || app.mails_to("ann@example.com").into_iter().filter(|(sub, _)| *sub == subject).count();
    for _ in 0..100 {
        if links() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(links(), 2);
}

#[tokio::test]
async fn the_same_idempotency_key_is_how_a_browser_gets_its_order_back() {
    let app = spawn_app().await;
    app.add_stock(5).await;
    let send = || {
        app.client
            .post(format!("{}/checkout", app.url))
            .header("Idempotency-Key", "ann-browser-1")
            .json(&body("ann@example.com", "bronze", false))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
}

#[tokio::test]
async fn one_email_cannot_hold_more_than_two_orders() {
    let app = spawn_app().await;
    app.add_stock(10).await;
    let a = app.post("/checkout", body("ann@example.com", "bronze", false)).await;
    assert_eq!(a.status(), 201);
    let b = app.post("/checkout", body("ann@example.com", "bronze", true)).await;
    assert_eq!(b.status(), 201, "new: true asks for another order");
    let c = app.post("/checkout", body("ann@example.com", "silver", false)).await;
    assert!(c.headers().get("retry-after").is_some());
    let (status, p) = problem(c).await;
    assert_eq!(status, 429);
    assert!(s(&p["type"]).ends_with("/too-many-open-orders"));
    assert_eq!(app.ledger_count("hold").await, 2, "the refused checkout held nothing");
    // Another buyer is not affected.
    assert_eq!(app.post("/checkout", body("bob@example.com", "bronze", false)).await.status(), 201);
}

#[tokio::test]
async fn the_limit_frees_up_when_holds_lapse_or_orders_are_paid() {
    let app = spawn_app().await;
    app.add_stock(10).await;
    let a: Value = app.post("/checkout", body("ann@example.com", "bronze", false)).await.json().await.unwrap();
    app.post("/checkout", body("ann@example.com", "silver", false)).await;
    assert_eq!(app.post("/checkout", body("ann@example.com", "gold", false)).await.status(), 429);
    // Paying one frees its slot.
    app.sandbox_pay(&s(&a["order_id"]), json!({})).await;
    app.wait_for(&s(&a["order_id"]), &s(&a["order_token"]), "fulfilled").await;
    assert_eq!(app.post("/checkout", body("ann@example.com", "gold", false)).await.status(), 201);
    assert_eq!(app.post("/checkout", body("ann@example.com", "basic", false)).await.status(), 429);
    // Lapsed holds free theirs.
    app.post("/sandbox/clock", json!({"advance_seconds": 31 * 60})).await;
    app.post_admin("/admin/expire", json!({})).await;
    assert_eq!(app.post("/checkout", body("ann@example.com", "basic", false)).await.status(), 201);
    assert_eq!(app.post("/checkout", body("ann@example.com", "bronze", false)).await.status(), 201);
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_limit() {
    let app = spawn_app_with(|cfg| cfg.limits.pending_per_ip = 3).await;
    app.add_stock(10).await;
    for i in 0..3 {
        let r = app.post("/checkout", body(&format!("u{i}@example.com"), "bronze", false)).await;
        assert_eq!(r.status(), 201);
    }
    let (status, _) = problem(app.post("/checkout", body("u9@example.com", "bronze", false)).await).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn concurrent_checkouts_from_one_email_hold_at_most_two() {
    let app = std::sync::Arc::new(spawn_app().await);
    app.add_stock(20).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let app = app.clone();
        set.spawn(
            async move { app.post("/checkout", body("ann@example.com", "bronze", true)).await.status().as_u16() },
        );
    }
    let mut created = 0;
    while let Some(st) = set.join_next().await {
        let st = st.unwrap();
        assert!(st == 201 || st == 429, "{st}");
        created += usize::from(st == 201);
    }
    assert_eq!(created, 2);
    assert_eq!(app.ledger_count("hold").await, 2);
}

#[tokio::test]
async fn stripe_holds_last_at_least_stripes_thirty_minutes() {
    let app = spawn_app_with(|cfg| cfg.limits.hold_minutes = 5).await;
    app.add_stock(2).await;
    let now = shared::domain::Timestamp::system_now();
    let card: Value = app
        .post("/checkout", json!({"email": "a@example.com", "product_id": "bronze", "provider": "stripe"}))
        .await
        .json()
        .await
        .unwrap();
    let coin: Value = app.post("/checkout", body("b@example.com", "bronze", false)).await.json().await.unwrap();
    let until = |v: &Value| shared::domain::Timestamp::parse_rfc3339(v["reserved_until"].as_str().unwrap()).unwrap();
    assert!(until(&card).millis() - now.millis() >= 31 * 60 * 1000, "stripe: {card}");
    assert!(
        until(&coin).millis() - now.millis() <= 6 * 60 * 1000,
        "nowpayments keeps the configured 5 minutes: {coin}"
    );
}
