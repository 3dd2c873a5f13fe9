//! A fulfilment message that always fails goes to the dead-letter queue
//! after `MAX_RECEIVES` receives and raises the worker's alarm metric;
//! orders behind it are fulfilled meanwhile.

use std::time::Duration;

use serde_json::json;
use shared::ports::queue::MAX_RECEIVES;
use shared::services::{jobs, keys};
use stockroom_tests::spawn_app;

#[tokio::test]
async fn a_poison_message_is_dead_lettered_and_blocks_nothing() {
    let app = spawn_app().await;
    let stock = app.add_stock(3).await;
    // An order whose record cannot be read: every try fails (retryably).
    let poison = "01JPOISON0000000000000000".to_string();
    let key = keys::order(&poison);
    let item = json!({"pk": key.pk, "sk": key.sk, "status": "no-such-status"});
    app.ctx().records.put(item.as_object().unwrap().clone(), None).await.unwrap();
    jobs::enqueue(app.ctx(), &poison).await.unwrap();
    // Orders behind it.
    let mut orders = Vec::new();
    for _ in 0..3 {
        let (id, token, _) = app.checkout_ok("bronze", "stripe").await;
        app.sandbox_pay(&id, json!({})).await;
        orders.push((id, token));
    }
    for (id, token) in &orders {
        app.wait_for(id, token, "fulfilled").await;
    }
    // Five receives a second apart (the test visibility), then the move.
    let mut dead = 0;
    for _ in 0..400 {
        dead = app.ctx().fulfil_queue.dead_letter_count().await.unwrap();
        if dead > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead, 1, "the poison message is dead-lettered");
    assert_eq!(app.ctx().worker.dead_lettered(), 1, "the alarm metric counts it once");
    assert_eq!(MAX_RECEIVES, 5);
    assert!(app.ctx().fulfil_queue.receive(10, Duration::from_secs(1)).await.unwrap().is_empty(), "queue empty");
    assert_eq!(app.keys("assigned/").await.len(), 3);
    super::books::check(&app, &stock, "poison").await;
}
