//! `bench purchase` (needs an AWS emulator: AWS_ENDPOINT_URL): one purchase of
//! each plan on DynamoDB, S3 and SQS, counting the requests each step makes
//! (checkout, the signed webhook, fulfilment).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use shared::adapters::aws::{AwsConfig, RequestCounter, connect};
use shared::adapters::sandbox::SandboxGateway;
use shared::app::{self, Ports};
use shared::config::{Config, Place};
use shared::domain::Email;
use shared::providers::nowpayments;
use shared::services::checkout::{self, CheckoutRequest, Outcome};
use shared::services::{catalog, fulfil, restock, webhooks};

const PLANS: [&str; 7] = ["bronze", "silver", "gold", "basic", "diamond", "pro", "elite"];

pub async fn run() -> anyhow::Result<()> {
    let endpoint =
        std::env::var("AWS_ENDPOINT_URL").context("bench purchase needs AWS_ENDPOINT_URL (scripts/moto.sh start)")?;
    println!("requests per purchase on the AWS adapters ({endpoint})");
    println!(
        "{:<8} {:>5}  {:>20}  {:>20}  {:>20}  {:>8}",
        "plan", "files", "checkout D/S3/SQS", "webhook D/S3/SQS", "fulfil D/S3/SQS", "DynamoDB"
    );
    for plan in PLANS {
        one(plan).await.with_context(|| format!("purchase of {plan}"))?;
    }
    Ok(())
}

async fn one(plan: &str) -> anyhow::Result<()> {
    let name = format!("bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    let vars = [
        ("STOCKROOM_TABLE", name.clone()),
        ("STOCKROOM_BUCKET", name.clone()),
        ("STOCKROOM_QUEUE_NAME", name),
        ("STOCKROOM_CREATE_RESOURCES", "1".into()),
    ];
    let aws_cfg = AwsConfig::from_lookup(|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).or_else(|| std::env::var(k).ok())
    })?;
    let b = connect(&aws_cfg).await?;
    let counter = b.counter.clone();
    let cfg = Config::from_lookup(Place::Local, |_| None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ports = Ports { records: b.records, files: b.files, fulfil_queue: b.fulfil, events: b.events };
    let state = app::state(&cfg, ports, Arc::new(SandboxGateway { public_url: cfg.public_url.clone() }), app::clock());
    let ctx = state.ctx.clone();
    catalog::seed(&ctx).await?;
    let product = catalog::get(&ctx, plan).await?.context("no such plan")?;
    for i in 0..product.files {
        ctx.files.put(&format!("unused/f{i}.session"), b"x".to_vec(), true).await?;
    }
    restock::adopt_new_files(&ctx, "bench").await?;

    counter.reset();
    let req = CheckoutRequest {
        email: Email::parse("bench@example.com")?,
        product_id: plan.into(),
        provider: shared::domain::ProviderKind::Nowpayments,
        pay_currency: None,
        new: false,
        client_ip: None,
        for_subscription: None,
        credits_proof: None,
    };
    let Outcome::Created(order) = checkout::checkout(&ctx, req, None).await? else { anyhow::bail!("not created") };
    let at_checkout = split(&counter);

    counter.reset();
    let price = product.price.to_decimal().normalize().to_string();
    let body = format!(
        r#"{{"payment_id":{},"payment_status":"finished","order_id":"{}","price_amount":{price},"price_currency":"usd","pay_amount":{price},"actually_paid":{price},"pay_currency":"usdttrc20"}}"#,
        order.payment.payment_id, order.order_id
    );
    let event = nowpayments::parse(body.as_bytes())?;
    webhooks::ingest(&ctx, &event).await?;
    let at_webhook = split(&counter);

    counter.reset();
    let msgs = ctx.fulfil_queue.receive(1, std::time::Duration::from_secs(30)).await?;
    let msg = msgs.first().context("no fulfilment message")?;
    fulfil::handle(&ctx, &msg.body).await?;
    ctx.fulfil_queue.delete(&msg.receipt).await?;
    let at_fulfil = split(&counter);

    let show = |c: &[u64; 3]| format!("{}/{}/{}", c[0], c[1], c[2]);
    let dynamo_total = at_checkout[0] + at_webhook[0] + at_fulfil[0];
    println!(
        "{plan:<8} {:>5}  {:>20}  {:>20}  {:>20}  {:>8}",
        product.files,
        show(&at_checkout),
        show(&at_webhook),
        show(&at_fulfil),
        dynamo_total
    );
    Ok(())
}

/// Requests by service: DynamoDB, S3, SQS.
fn split(counter: &RequestCounter) -> [u64; 3] {
    let snap: BTreeMap<String, u64> = counter.snapshot();
    let sum = |prefix: &str| snap.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| *v).sum();
    [sum("dynamodb."), sum("s3."), sum("sqs.")]
}
