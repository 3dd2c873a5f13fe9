//! `bench purchase`: one purchase of each plan, counting the requests each
//! step makes (checkout, the signed webhook, fulfilment) by service:
//! DynamoDB, S3, SQS. On the AWS adapters (feature `aws`, against an
//! emulator: AWS_ENDPOINT_URL) the SDK calls are counted; on the embedded
//! backend the port calls, each as the AWS request(s) it stands for.

#[cfg(feature = "aws")]
pub mod aws;
mod embedded;

use std::sync::Arc;

use anyhow::Context;
use shared::providers::nowpayments;
use shared::services::checkout::{self, Outcome};
use shared::services::{Ctx, catalog, fulfil, restock, webhooks};
use shared::testkit::stack::{checkout_request, finished_ipn};

pub const PLANS: [&str; 7] = ["bronze", "silver", "gold", "basic", "diamond", "pro", "elite"];

/// Requests so far by service: [DynamoDB, S3, SQS].
pub trait Meter {
    fn reset(&self);
    fn read(&self) -> [u64; 3];
}

/// A fresh stack for one purchase: its context, its meter, and whatever
/// must live as long as it (the embedded stack's temporary directory).
pub struct Stack {
    pub ctx: Arc<Ctx>,
    pub meter: Box<dyn Meter>,
    pub _keep: Option<tempfile::TempDir>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    #[cfg(feature = "aws")]
    Aws,
}

/// With the `aws` feature the AWS adapters, unless `embedded` is asked for.
pub fn backend(arg: Option<&str>) -> anyhow::Result<Backend> {
    match arg {
        Some("embedded") => Ok(Backend::Embedded),
        #[cfg(feature = "aws")]
        None | Some("aws") => Ok(Backend::Aws),
        #[cfg(not(feature = "aws"))]
        None => Ok(Backend::Embedded),
        Some(other) => {
            anyhow::bail!("unknown backend {other}: embedded{}", if cfg!(feature = "aws") { " or aws" } else { "" })
        }
    }
}

pub async fn run(backend: Backend) -> anyhow::Result<()> {
    match backend {
        Backend::Embedded => {
            println!("requests per purchase on the embedded backend, counted as DynamoDB/S3/SQS requests")
        }
        #[cfg(feature = "aws")]
        Backend::Aws => println!("requests per purchase on the AWS adapters ({})", aws::endpoint()?),
    }
    println!(
        "{:<8} {:>5}  {:>20}  {:>20}  {:>20}  {:>8}",
        "plan", "files", "checkout D/S3/SQS", "webhook D/S3/SQS", "fulfil D/S3/SQS", "DynamoDB"
    );
    for plan in PLANS {
        let stack = match backend {
            Backend::Embedded => embedded::stack()?,
            #[cfg(feature = "aws")]
            Backend::Aws => aws::stack().await?,
        };
        one(plan, &stack).await.with_context(|| format!("purchase of {plan}"))?;
    }
    Ok(())
}

async fn one(plan: &str, stack: &Stack) -> anyhow::Result<()> {
    let (ctx, meter) = (&stack.ctx, &stack.meter);
    catalog::seed(ctx).await?;
    let product = catalog::get(ctx, plan).await?.context("no such plan")?;
    for i in 0..product.files {
        ctx.files.put(&format!("unused/f{i}.session"), b"x".to_vec(), true).await?;
    }
    restock::adopt_new_files(ctx, "bench").await?;

    meter.reset();
    let req = checkout_request("bench@example.com", plan);
    let Outcome::Created(order) = checkout::checkout(ctx, req, None).await? else { anyhow::bail!("not created") };
    let at_checkout = meter.read();

    meter.reset();
    let body = finished_ipn(&order, &product.price.to_decimal().normalize().to_string());
    let event = nowpayments::parse(body.as_bytes())?;
    webhooks::ingest(ctx, &event).await?;
    let at_webhook = meter.read();

    meter.reset();
    let msgs = ctx.fulfil_queue.receive(1, std::time::Duration::from_secs(30)).await?;
    let msg = msgs.first().context("no fulfilment message")?;
    let outcome = fulfil::handle(ctx, &msg.body).await?;
    anyhow::ensure!(matches!(outcome, fulfil::FulfilOutcome::Fulfilled { .. }), "not fulfilled: {outcome:?}");
    ctx.fulfil_queue.delete(&msg.receipt).await?;
    let at_fulfil = meter.read();

    let show = |c: &[u64; 3]| format!("{}/{}/{}", c[0], c[1], c[2]);
    println!(
        "{plan:<8} {:>5}  {:>20}  {:>20}  {:>20}  {:>8}",
        product.files,
        show(&at_checkout),
        show(&at_webhook),
        show(&at_fulfil),
        at_checkout[0] + at_webhook[0] + at_fulfil[0]
    );
    Ok(())
}
