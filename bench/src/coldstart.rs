//! `bench coldstart [DIR] [RUNS]` (needs an AWS emulator: AWS_ENDPOINT_URL):
//! starts each function binary in DIR (default target/release) as Lambda
//! does, against a local Runtime API, and times process start -> first
//! `next` (init) and -> the first event's answer, next to the hello-world
//! `hello_lambda` built the same way. One unmeasured run per function first
//! creates the table, bucket and queues.

mod runtime;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::http::auth::{Role, mint};
use shared::providers::nowpayments;

use runtime::{Answer, Timing};

const JWT_SECRET: &str = "bench-jwt-secret";
const IPN_SECRET: &str = "bench-ipn-secret";

struct Function {
    name: &'static str,
    event: Value,
}

pub async fn run(args: &[String]) -> anyhow::Result<()> {
    let endpoint =
        std::env::var("AWS_ENDPOINT_URL").context("bench coldstart needs AWS_ENDPOINT_URL (scripts/moto.sh start)")?;
    let dir = PathBuf::from(args.first().map_or("target/release", String::as_str));
    let runs: usize = args.get(1).map_or(Ok(10), |n| n.parse()).context("RUNS must be a whole number")?;
    let names = format!("coldstart-{}", ulid::Ulid::new().to_string().to_lowercase());
    let env = environment(&endpoint, &names);
    // Created by name; then addressed by URL, as the template does.
    let create = [("STOCKROOM_CREATE_RESOURCES", "1"), ("STOCKROOM_QUEUE_NAME", names.as_str())];
    let (queue, events) = (queue_url(&endpoint, &names), queue_url(&endpoint, &format!("{names}-events")));
    let urls = [("STOCKROOM_QUEUE_URL", queue.as_str()), ("STOCKROOM_EVENTS_QUEUE_URL", events.as_str())];
    println!("cold starts from {} against {endpoint}, {runs} runs each (median, min, max)", dir.display());
    println!("{:<13} {:>9} {:>24} {:>24}  first answer", "binary", "bytes", "init ms", "first event ms");
    let mut baseline = None;
    for f in functions()? {
        let bin = dir.join(f.name);
        let bytes = std::fs::metadata(&bin).with_context(|| format!("no binary {}", bin.display()))?.len();
        // Creates the resources (and warms the emulator) unmeasured.
        let warm = runtime::start(&bin, f.name, &env, &create, &f.event).await?;
        check(f.name, &warm)?;
        let mut timings = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = runtime::start(&bin, f.name, &env, &urls, &f.event).await?;
            check(f.name, &t)?;
            timings.push(t);
        }
        let init = spread(timings.iter().map(|t| t.init));
        let first = spread(timings.iter().map(|t| t.answered));
        let ratio = match baseline {
            None => {
                baseline = Some(first.0);
                String::new()
            }
            Some(b) => format!("  x{:.1} of hello", first.0.as_secs_f64() / b.as_secs_f64()),
        };
        println!(
            "{:<13} {bytes:>9} {:>24} {:>24}  {}{ratio}",
            f.name,
            show(init),
            show(first),
            timings.last().map_or(String::new(), |t| t.answer.summary())
        );
    }
    Ok(())
}

/// A function that crashed or failed its first event is not a cold start.
fn check(name: &str, t: &Timing) -> anyhow::Result<()> {
    match &t.answer {
        Answer::Response(_) => Ok(()),
        Answer::Error(body) | Answer::InitError(body) => bail!("{name} failed: {body}"),
    }
}

fn spread(times: impl Iterator<Item = Duration>) -> (Duration, Duration, Duration) {
    let mut v: Vec<Duration> = times.collect();
    v.sort();
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn show((median, min, max): (Duration, Duration, Duration)) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!("{:.1} ({:.1}-{:.1})", ms(median), ms(min), ms(max))
}

/// The emulator's queue URL (moto's form), as the template passes it.
fn queue_url(endpoint: &str, name: &str) -> String {
    format!("{}/123456789012/{name}", endpoint.trim_end_matches('/'))
}

/// What the SAM template gives every function, pointed at the emulator.
fn environment(endpoint: &str, names: &str) -> Vec<(String, String)> {
    [
        ("STOCKROOM_BACKEND", "aws".to_string()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("STOCKROOM_TABLE", names.into()),
        ("STOCKROOM_BUCKET", names.into()),
        ("STOCKROOM_PUBLIC_URL", "https://shop.example".into()),
        ("STOCKROOM_JWT_SECRET", JWT_SECRET.into()),
        ("STOCKROOM_ORDER_TOKEN_KEY", "bench-order-token-key".into()),
        ("STOCKROOM_SERVICE_TOKEN", "bench-service-token".into()),
        ("NOWPAYMENTS_IPN_SECRET", IPN_SECRET.into()),
        ("NOWPAYMENTS_API_KEY", "bench-unused".into()),
        ("STRIPE_WEBHOOK_SECRET", "whsec_bench".into()),
        ("STRIPE_SECRET_KEY", "sk_test_bench_unused".into()),
        ("AWS_LAMBDA_LOG_LEVEL", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Each function with the event it meets first, from the functions' own
/// fixtures: the catalog, a signed IPN for an unknown order, the stock view
/// with an admin token, a fulfilment batch, and the schedules.
fn functions() -> anyhow::Result<Vec<Function>> {
    let fixture = |text: &str| serde_json::from_str::<Value>(text).context("a function's event fixture");
    let mut ipn = fixture(include_str!("../../functions/webhooks/events/nowpayments.json"))?;
    let body = r#"{"payment_id":5077,"payment_status":"finished","order_id":"ORD-unknown","price_amount":30,"price_currency":"usd","pay_amount":30,"actually_paid":30,"pay_currency":"usdttrc20"}"#;
    ipn["headers"]["x-nowpayments-sig"] = json!(nowpayments::sign(IPN_SECRET, body.as_bytes())?);
    ipn["body"] = json!(body);
    ipn["isBase64Encoded"] = json!(false);
    let mut stock = fixture(include_str!("../../functions/admin/events/stock.json"))?;
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64 + 3600;
    let token = mint(&SecretString::from(JWT_SECRET), "bench", Role::Admin, exp)?;
    stock["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let schedule = fixture(include_str!("../../functions/expire/events/schedule.json"))?;
    Ok(vec![
        Function { name: "hello_lambda", event: json!({"hello": "world"}) },
        Function { name: "checkout", event: fixture(include_str!("../../functions/checkout/events/products.json"))? },
        Function { name: "webhooks", event: ipn },
        Function { name: "admin", event: stock },
        Function { name: "fulfil", event: fixture(include_str!("../../functions/fulfil/events/batch.json"))? },
        Function { name: "expire", event: schedule.clone() },
        Function { name: "reconcile", event: schedule.clone() },
        Function { name: "deliver", event: schedule.clone() },
        Function { name: "credits", event: schedule },
    ])
}
