//! Each Lambda function's work on a moto server that enforces IAM, signed as
//! an IAM user whose only policy is that function's role policy in
//! infra/template.yaml: a permission the code needs and the role lacks fails
//! here instead of in production. `scripts/iam-moto.sh` starts moto, creates
//! the users from the template and runs this with `STOCKROOM_IAM_MOTO` naming
//! their keys; without it this test only says so and passes.
//!
//! Every function is driven through what its `main.rs` mounts: the same
//! router (`lambda::http_router` over the function's routes) or job
//! (`fulfil_batch`, `expire_job`, `reconcile::run`, `post_due`,
//! `dispatch_batch`, `deliver_job` with the SES mailer). The steps that once failed are here: a credits-only
//! checkout queueing fulfilment, expire requeueing a paid order, fulfil
//! taking a batch. Effects are read back (a swallowed AccessDenied would
//! otherwise pass): a queued job must be on the queue, a dispatched event on
//! the events queue and out of the outbox. The test's own setup signs as
//! `setup`, which may do anything.
//!
//! What moto can check is in scripts/iam-moto.py (DynamoDB by action only).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use shared::adapters::aws::{AwsClients, AwsConfig, connect_with, https_client};
use shared::app::{self, Ports};
use shared::config::{Config, LOCAL_STRIPE_WEBHOOK_SECRET};
use shared::domain::{OrderStatus, Timestamp};
use shared::http::auth::{Role, mint};
use shared::http::{AppState, admin_routes, sandbox, storefront_routes, webhook_routes};
use shared::lambda::testing::{add_stock, call, config, request, stream_record};
use shared::lambda::{dispatch_batch, fulfil_batch, http_router};
use shared::ports::clock::OffsetClock;
use shared::providers::stripe;
use shared::services::events::{self as outbox_events, Event};
use shared::services::hooks::endpoints::{self as hook_endpoints, NewEndpoint};
use shared::services::jobs::StepReport;
use shared::services::store::outbox;
use shared::services::{catalog, credits, jobs, orders, reconcile, schedule};
use shared::testkit::receiver::Receiver;

#[derive(serde::Deserialize)]
struct Emulator {
    endpoint: String,
    region: String,
    table: String,
    bucket: String,
    fulfil_queue: String,
    events_queue: String,
    mail_from: String,
    users: HashMap<String, Keys>,
}

#[derive(serde::Deserialize)]
struct Keys {
    key: String,
    secret: String,
}

struct Stack {
    emu: Emulator,
    cfg: Config,
    /// One clock for every function, so the test can move time for all.
    clock: Arc<OffsetClock>,
    fulfil_url: String,
    events_url: String,
}

impl Stack {
    async fn sdk(&self, user: &str) -> anyhow::Result<aws_config::SdkConfig> {
        let k = self.emu.users.get(user).with_context(|| format!("no IAM user {user}: is it in the template?"))?;
        Ok(aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.emu.region.clone()))
            .endpoint_url(&self.emu.endpoint)
            .credentials_provider(Credentials::new(&k.key, &k.secret, None, None, "iam-moto"))
            .http_client(https_client())
            .load()
            .await)
    }

    /// The function's state as on Lambda (queue URLs given, nothing
    /// created), every AWS call signed as `user`.
    async fn state_as(&self, user: &str) -> anyhow::Result<AppState> {
        let vars = [
            ("AWS_REGION", self.emu.region.clone()),
            ("AWS_ENDPOINT_URL", self.emu.endpoint.clone()),
            ("STOCKROOM_TABLE", self.emu.table.clone()),
            ("STOCKROOM_BUCKET", self.emu.bucket.clone()),
            ("STOCKROOM_QUEUE_URL", self.fulfil_url.clone()),
            ("STOCKROOM_EVENTS_QUEUE_URL", self.events_url.clone()),
        ];
        let aws = AwsConfig::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))?;
        let b = connect_with(&aws, AwsClients::new(&self.sdk(user).await?, aws.s3_path_style)).await?;
        let ports = Ports { records: b.records, files: b.files, fulfil_queue: b.fulfil, events: b.events };
        Ok(app::state(&self.cfg, ports, app::gateway(&self.cfg)?, self.clock.clone()))
    }
}

/// Creates the table, bucket and queues as `setup` and finds the queue URLs.
async fn stack(emu: Emulator) -> anyhow::Result<Stack> {
    let mut cfg = config()?;
    // A proof order and a credits-only order per buyer; paid orders requeue at once.
    cfg.limits.pending_per_email = 10;
    cfg.jobs.requeue_after_secs = 0;
    // Staff mails, which the deliver function sends through SES.
    cfg.mail.staff = vec!["staff@example.com".into()];
    let mut stack = Stack { emu, cfg, clock: app::clock(), fulfil_url: String::new(), events_url: String::new() };
    let vars = [
        ("AWS_REGION", stack.emu.region.clone()),
        ("AWS_ENDPOINT_URL", stack.emu.endpoint.clone()),
        ("STOCKROOM_TABLE", stack.emu.table.clone()),
        ("STOCKROOM_BUCKET", stack.emu.bucket.clone()),
        ("STOCKROOM_QUEUE_NAME", stack.emu.fulfil_queue.clone()),
        ("STOCKROOM_EVENTS_QUEUE_NAME", stack.emu.events_queue.clone()),
        ("STOCKROOM_CREATE_RESOURCES", "1".to_string()),
    ];
    let aws = AwsConfig::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))?;
    let sdk = stack.sdk("setup").await?;
    connect_with(&aws, AwsClients::new(&sdk, aws.s3_path_style)).await.context("creating resources as setup")?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    for (name, url) in
        [(&stack.emu.fulfil_queue, &mut stack.fulfil_url), (&stack.emu.events_queue, &mut stack.events_url)]
    {
        *url = sqs.get_queue_url().queue_name(name).send().await?.queue_url.context("no queue URL")?;
    }
    Ok(stack)
}

/// An HTTP API (v2) event as API Gateway sends it.
fn event(method: &str, path: &str, body: Option<&str>, headers: Value) -> Value {
    let mut h = json!({"content-type": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com"});
    if let (Some(h), Some(extra)) = (h.as_object_mut(), headers.as_object()) {
        h.extend(extra.clone());
    }
    json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": "",
        "headers": h,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "iam-moto"},
            "requestId": "iam-moto", "routeKey": format!("{method} {path}"), "stage": "$default",
            "time": "10/Mar/2026:12:00:00 +0000", "timeEpoch": 1773144000000_i64
        },
        "isBase64Encoded": false,
        "body": body,
    })
}

async fn send(app: &Router, who: &str, e: Value, want: StatusCode) -> anyhow::Result<Value> {
    let what = e["routeKey"].as_str().unwrap_or_default().to_string();
    let (status, body) = call(app, request(&e)?).await?;
    if status != want {
        bail!("{who}: {what} answered {status}, not {want}: {body}");
    }
    Ok(body)
}

/// Every message on the fulfilment queue now (read as `setup`, then deleted).
async fn drain(setup: &AppState) -> anyhow::Result<Vec<String>> {
    let mut bodies = Vec::new();
    loop {
        let batch = setup.ctx.fulfil_queue.receive(10, Duration::from_secs(60)).await?;
        if batch.is_empty() {
            return Ok(bodies);
        }
        for m in batch {
            setup.ctx.fulfil_queue.delete(&m.receipt).await?;
            bodies.push(m.body);
        }
    }
}

/// What the fulfil function's event source does: receives (with the fulfil
/// role), hands each message to `fulfil_batch` and deletes it, until the
/// queue is empty. One message a batch: this moto takes no locks, so two of
/// one batch racing on the stock counter could interleave as DynamoDB never
/// would. Returns the bodies handled.
async fn fulfil_all(fulfil: &AppState) -> anyhow::Result<Vec<String>> {
    let mut handled = Vec::new();
    loop {
        let messages = fulfil.ctx.fulfil_queue.receive(10, Duration::from_secs(60)).await.context("fulfil: receive")?;
        if messages.is_empty() {
            return Ok(handled);
        }
        for m in messages {
            let record =
                json!({"messageId": m.id, "receiptHandle": m.receipt, "body": m.body, "eventSource": "aws:sqs"});
            let batch = serde_json::from_value(json!({"Records": [record]}))?;
            let response = fulfil_batch(&fulfil.ctx, batch).await;
            if !response.batch_item_failures.is_empty() {
                bail!("fulfil: {} failed (see the log above)", m.body);
            }
            fulfil.ctx.fulfil_queue.delete(&m.receipt).await.context("fulfil: delete")?;
            handled.push(m.body);
        }
    }
}

/// What the dispatcher's stream does: every event in the outbox now, as the
/// stream records of their inserts (moto has no stream behind a mapping, so
/// `setup` reads the outbox and builds them), in one batch to
/// `dispatch_batch`, which hands them on with the dispatch role. Each must
/// be out of the outbox after. Returns their ids.
async fn dispatch_all(setup: &AppState, dispatch: &AppState) -> anyhow::Result<Vec<String>> {
    let pending = outbox::pending(&setup.ctx, 100).next_page().await?.unwrap_or_default();
    let mut records = Vec::new();
    for (n, e) in pending.iter().enumerate() {
        let key = outbox::key(&e.id).context("an event id that is not a ULID")?;
        let item = setup.ctx.records.get(&key).await?.context("outbox item gone")?;
        records.push(stream_record("INSERT", &format!("{:021}", n + 1), &item)?);
    }
    let response = dispatch_batch(&dispatch.ctx, serde_json::from_value(json!({ "Records": records }))?).await;
    if let Some(f) = response.batch_item_failures.first() {
        bail!("dispatch: record {:?} failed (see the log above)", f.item_identifier);
    }
    let ids: Vec<String> = pending.into_iter().map(|e| e.id).collect();
    let left = outbox::pending(&setup.ctx, 100).next_page().await?.unwrap_or_default();
    let stuck: Vec<&String> = left.iter().map(|e| &e.id).filter(|id| ids.contains(id)).collect();
    if !stuck.is_empty() {
        bail!("dispatch: sent but still in the outbox (UpdateItem denied?): {stuck:?}");
    }
    Ok(ids)
}

/// The types of the events on the events queue now (read as `setup`, then
/// deleted), once the dispatcher has handed on what is in the outbox.
async fn events(setup: &AppState, dispatch: &AppState) -> anyhow::Result<Vec<String>> {
    dispatch_all(setup, dispatch).await?;
    let mut kinds = Vec::new();
    loop {
        let batch = setup.ctx.events.receive(10, Duration::from_secs(60)).await?;
        if batch.is_empty() {
            return Ok(kinds);
        }
        for m in batch {
            setup.ctx.events.delete(&m.receipt).await?;
            let v: Value = serde_json::from_str(&m.body)?;
            kinds.push(v["type"].as_str().unwrap_or_default().to_string());
        }
    }
}

async fn status_of(state: &AppState, order_id: &str) -> anyhow::Result<OrderStatus> {
    Ok(orders::load(&state.ctx, order_id).await?.context("no such order")?.order.status)
}

#[tokio::test]
async fn each_function_works_with_only_its_role_policy() -> anyhow::Result<()> {
    let Ok(path) = std::env::var("STOCKROOM_IAM_MOTO") else {
        eprintln!("iam_moto: STOCKROOM_IAM_MOTO not set; run scripts/iam-moto.sh to check the template's roles");
        return Ok(());
    };
    // The functions' JSON logs: a denied call a service only logs shows here.
    shared::lambda::init_tracing();
    let emu: Emulator = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let stack = stack(emu).await?;
    let setup = stack.state_as("setup").await?;
    catalog::seed(&setup.ctx).await?;
    add_stock(&setup, &["s1.session", "s2.session", "s3.session", "s4.session"]).await?;
    let buyer = "full@example.com";

    // dispatch: an event written (by `setup`) is handed on with only the
    // dispatch role: on the events queue, with its id, and out of the outbox.
    let dispatch = stack.state_as("dispatch").await?;
    let stale = events(&setup, &dispatch).await?;
    outbox_events::notify(
        &setup.ctx,
        Event::StockLow { product_id: "iam".into(), available: 0, threshold: 1, days_of_cover: None },
    )
    .await;
    let ids = dispatch_all(&setup, &dispatch).await?;
    assert_eq!(ids.len(), 1, "dispatch: the outbox held {ids:?} (before: {stale:?})");
    let mut on_queue = Vec::new();
    for m in setup.ctx.events.receive(10, Duration::from_secs(60)).await? {
        setup.ctx.events.delete(&m.receipt).await?;
        on_queue.push(serde_json::from_str::<Value>(&m.body)?);
    }
    assert!(
        on_queue.iter().any(|v| v["id"] == ids[0].as_str() && v["type"] == "stock.low"),
        "dispatch: event {} not on the events queue: {on_queue:?}",
        ids[0]
    );

    // admin: gifts the buyer enough credits for a whole bronze plan.
    let admin = stack.state_as("admin").await?;
    let admin_app = http_router(admin_routes(admin.clone()), admin.clone());
    let jwt = mint(&admin.auth.jwt_secret, "staff-1", Role::Admin, Timestamp::system_now().secs() + 600)?;
    let bearer = json!({"authorization": format!("Bearer {jwt}")});
    let gift = json!({"email": buyer, "amount": 40, "reason": "iam-moto"}).to_string();
    send(&admin_app, "admin", event("POST", "/admin/credits/gifts", Some(&gift), bearer.clone()), StatusCode::CREATED)
        .await?;
    send(&admin_app, "admin", event("GET", "/admin/stock", None, bearer.clone()), StatusCode::OK).await?;

    // checkout: a card order, then one paid with credits alone (by the
    // signed-in buyer), which checkout queues for fulfilment itself.
    let checkout = stack.state_as("checkout").await?;
    catalog::seed(&checkout.ctx).await?;
    let shop = http_router(storefront_routes(), checkout.clone());
    send(&shop, "checkout", event("GET", "/products", None, json!({})), StatusCode::OK).await?;
    let card = json!({"email": buyer, "product_id": "silver", "provider": "stripe", "new": true}).to_string();
    let proof =
        send(&shop, "checkout", event("POST", "/checkout", Some(&card), json!({})), StatusCode::CREATED).await?;
    let proof_id = proof["order_id"].as_str().context("no order_id")?.to_string();
    // webhooks: Stripe says the card order is paid; it is queued.
    let webhooks = stack.state_as("webhooks").await?;
    let hooks = http_router(webhook_routes(), webhooks.clone());
    let raw = json!({
        "id": "evt_iam", "object": "event", "type": "checkout.session.completed",
        "created": Timestamp::system_now().secs(), "livemode": false,
        "data": {"object": {
            "id": proof["payment"]["payment_id"], "object": "checkout.session",
            "client_reference_id": proof_id, "metadata": {"order_id": proof_id},
            "amount_total": proof["price"]["amount"], "currency": "usd",
            "payment_status": "paid", "mode": "payment"
        }}
    })
    .to_string();
    let sig = stripe::signature_header(LOCAL_STRIPE_WEBHOOK_SECRET, Timestamp::system_now().secs(), raw.as_bytes());
    let e = event("POST", "/webhooks/stripe", Some(&raw), json!({"stripe-signature": sig}));
    send(&hooks, "webhooks", e, StatusCode::OK).await?;
    assert_eq!(status_of(&setup, &proof_id).await?, OrderStatus::Paid);
    let queued = drain(&setup).await?;
    assert!(queued.iter().any(|b| b.contains(&proof_id)), "webhooks: {proof_id} not queued: {queued:?}");

    // Spending credits takes the buyer's session (as `POST /auth/session`
    // mints it under the checkout function's key).
    let session = shared::services::signin::session::mint(&checkout.ctx, &shared::domain::Email::parse(buyer)?)?;
    let as_buyer = json!({"authorization": format!("Bearer {}", session.session_token)});
    let with_credits = json!({
        "email": buyer, "product_id": "bronze", "provider": "stripe", "new": true, "use_credits": true
    })
    .to_string();
    let paid =
        send(&shop, "checkout", event("POST", "/checkout", Some(&with_credits), as_buyer), StatusCode::CREATED).await?;
    let paid_id = paid["order_id"].as_str().context("no order_id")?.to_string();
    assert_eq!(paid["amount_due"]["amount"].as_i64(), Some(0), "credits pay it all: {paid}");
    let queued = drain(&setup).await?;
    assert!(
        queued.iter().any(|b| b.contains(&paid_id)),
        "checkout: the credits-only order {paid_id} was not queued for fulfilment (SendMessage denied?): {queued:?}"
    );

    // expire: both orders are paid and not fulfilled: requeue_paid queues them again.
    let expire = stack.state_as("expire").await?;
    let report = schedule::expire_job(&expire.ctx).await.all_ok().context("expire: expire_job")?;
    assert!(report.paid_requeued >= 2, "expire: {report:?}");
    let queued = drain(&setup).await?;
    assert!(
        [&paid_id, &proof_id].iter().all(|id| queued.iter().any(|b| b.contains(id.as_str()))),
        "expire: requeued orders missing from the fulfilment queue: {queued:?}"
    );

    // fulfil: the batch Lambda's event source would deliver (received and
    // deleted with the fulfil role, as the event source mapping does).
    let fulfil = stack.state_as("fulfil").await?;
    jobs::requeue_paid(&setup.ctx).await?;
    let handled = fulfil_all(&fulfil).await?;
    assert!(!handled.is_empty(), "fulfil: nothing to receive");
    for id in [&paid_id, &proof_id] {
        assert_eq!(status_of(&setup, id).await?, OrderStatus::Fulfilled, "fulfil: order {id}");
    }

    // Events are best effort (a denied send is only logged): read them back.
    let sent = events(&setup, &dispatch).await?;
    assert!(sent.iter().any(|k| k == "subscription.activated"), "fulfil: no subscription.activated: {sent:?}");

    // reconcile: adopts a new upload, checks the books.
    setup.ctx.files.put("unused/s5.session", b"session".to_vec(), true).await?;
    let reconcile = stack.state_as("reconcile").await?;
    let report = reconcile::run(&reconcile.ctx, "schedule:reconcile").await.all_ok().context("reconcile: run")?;
    assert_eq!(report.adopted, 1, "reconcile: {report:?}");

    let sent = events(&setup, &dispatch).await?;
    assert!(sent.iter().any(|k| k == "stock.low"), "reconcile: no stock.low event: {sent:?}");

    // credits: posts what is due.
    let credits_fn = stack.state_as("credits").await?;
    credits::post_due(&credits_fn.ctx, "schedule:credits").await.context("credits: post_due")?;

    // fulfil again: a refund's revoke job returns files and queues the
    // backorder they can serve (revoke -> queue_backorders), as fulfil.
    // A late payer: the hold lapses (expire releases it), someone else
    // takes the last files, then the late payment lands: backordered.
    let pay = http_router(webhook_routes().route("/sandbox/pay/{order_id}", post(sandbox::pay)), webhooks.clone());
    let late_order = json!({"email": "late@example.com", "product_id": "bronze", "provider": "stripe"}).to_string();
    let late =
        send(&shop, "checkout", event("POST", "/checkout", Some(&late_order), json!({})), StatusCode::CREATED).await?;
    let late_id = late["order_id"].as_str().context("no order_id")?.to_string();
    stack.clock.advance(31 * 60);
    let report = schedule::expire_job(&expire.ctx).await.all_ok().context("expire: expire_job")?;
    assert!(report.holds_released >= 1, "expire: {report:?}");
    let other_order = json!({"email": "other@example.com", "product_id": "silver", "provider": "stripe"}).to_string();
    let other =
        send(&shop, "checkout", event("POST", "/checkout", Some(&other_order), json!({})), StatusCode::CREATED).await?;
    let other_id = other["order_id"].as_str().context("no order_id")?.to_string();
    let paid_body = json!({"status": "paid"}).to_string();
    for id in [&other_id, &late_id] {
        let path = format!("/sandbox/pay/{id}");
        let answer = send(&pay, "webhooks", event("POST", &path, Some(&paid_body), json!({})), StatusCode::OK).await?;
        assert_eq!(answer["webhook_status"], 200, "webhooks: paying {id}: {answer}");
        fulfil_all(&fulfil).await?;
    }
    assert_eq!(status_of(&setup, &other_id).await?, OrderStatus::Fulfilled);
    assert_eq!(status_of(&setup, &late_id).await?, OrderStatus::Backordered, "no stock left for the late payer");
    let refund = json!({"status": "refunded"}).to_string();
    let path = format!("/sandbox/pay/{other_id}");
    let answer = send(&pay, "webhooks", event("POST", &path, Some(&refund), json!({})), StatusCode::OK).await?;
    assert_eq!(answer["webhook_status"], 200, "webhooks: refunding {other_id}: {answer}");
    let sent = events(&setup, &dispatch).await?;
    assert!(sent.iter().any(|k| k == "order.backordered"), "fulfil: no order.backordered: {sent:?}");
    let handled = fulfil_all(&fulfil).await?;
    let sent = events(&setup, &dispatch).await?;
    assert!(sent.iter().any(|k| k == "subscription.ended"), "fulfil: no subscription.ended: {sent:?}");
    assert!(handled.iter().any(|b| b.contains("revoke_subscription_id")), "fulfil: no revoke job: {handled:?}");
    assert!(handled.iter().any(|b| b.contains(&late_id)), "fulfil: the backorder was not queued: {handled:?}");
    assert_eq!(status_of(&setup, &late_id).await?, OrderStatus::Fulfilled, "the returned files fill the backorder");

    // admin: the on-demand jobs and the staff reads.
    for (method, path, want) in [
        ("POST", "/admin/reconcile", StatusCode::OK),
        ("POST", "/admin/expire", StatusCode::OK),
        ("POST", "/admin/credits/post", StatusCode::OK),
        ("GET", "/admin/ledger", StatusCode::OK),
    ] {
        send(&admin_app, "admin", event(method, path, None, bearer.clone()), want).await?;
    }
    let path = format!("/admin/customers/{buyer}/credits");
    send(&admin_app, "admin", event("GET", &path, None, bearer.clone()), StatusCode::OK).await?;

    deliver(&stack, &setup, &dispatch).await
}

/// deliver: a webhook to a local receiver and a staff mail through SES as
/// MailFrom, with only the deliver role (its SES statement included).
async fn deliver(stack: &Stack, setup: &AppState, dispatch: &AppState) -> anyhow::Result<()> {
    let sdk = stack.sdk("setup").await?;
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    ses.create_email_identity().email_identity(&stack.emu.mail_from).send().await.context("verifying MailFrom")?;
    let receiver = Receiver::start(vec![]).await;
    let req = NewEndpoint { url: receiver.url.clone(), events: vec!["stock.low".into()] };
    hook_endpoints::create(&setup.ctx, &req, "staff:iam-moto").await?;
    outbox_events::notify(
        &setup.ctx,
        Event::StockLow { product_id: "mail".into(), available: 0, threshold: 1, days_of_cover: None },
    )
    .await;
    dispatch_all(setup, dispatch).await?;
    let mut state = stack.state_as("deliver").await?;
    let from = format!("Stockroom <{}>", stack.emu.mail_from);
    let client = aws_sdk_sesv2::Client::new(&stack.sdk("deliver").await?);
    Arc::get_mut(&mut state.ctx).context("the deliver state is shared")?.mailer =
        Arc::new(shared::adapters::mail::SesMailer::with_client(client, &from));
    let report = schedule::deliver_job(&state.ctx).await.all_ok().context("deliver: deliver_job")?;
    let hooks = &report.webhooks;
    assert!(hooks.delivered >= 1 && hooks.retrying + hooks.failed == 0, "deliver: {report:?}");
    let mail = &report.mail;
    assert!(
        mail.sent >= 1 && mail.failed + mail.retrying == 0,
        "deliver: SES SendEmail as MailFrom (denied?): {report:?}"
    );
    assert_eq!(receiver.got().len() as u32, hooks.delivered);
    Ok(())
}
