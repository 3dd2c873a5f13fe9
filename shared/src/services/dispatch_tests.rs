//! The dispatcher crashed between its steps: the next run hands the event
//! on again, and the merchant and the buyer still get it once (deliveries
//! and mails are keyed by the event id); only the events queue, which is
//! at least once, may see it twice.

use std::sync::Arc;

use super::*;
use crate::adapters::embedded::open_embedded;
use crate::adapters::outbound::HttpSender;
use crate::ports::clock::OffsetClock;
use crate::services::events::{self, Event};
use crate::services::faults::Mode;
use crate::services::hooks::endpoints::{self, NewEndpoint};
use crate::services::store::mails;
use crate::testkit::receiver::Receiver;
use crate::testkit::stack::local_ctx;

fn ctx(dir: &std::path::Path) -> Ctx {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone()).unwrap();
    let mut ctx = local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock);
    ctx.webhook_sender = Arc::new(HttpSender::new(true));
    ctx
}

async fn queued(ctx: &Ctx) -> Vec<String> {
    let batch = ctx.events.receive(10, std::time::Duration::from_secs(600)).await.unwrap();
    batch.into_iter().map(|m| m.body).collect()
}

#[tokio::test]
async fn a_dispatch_crashed_at_each_step_delivers_once_on_the_next_run() {
    for point in ["dispatch.after_queue", "dispatch.after_fan_out"] {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        let r = Receiver::start(vec![]).await;
        let req = NewEndpoint { url: r.url.clone(), events: vec!["*".into()] };
        endpoints::create(&ctx, &req, "staff:test").await.unwrap();
        let paid = Event::OrderPaid {
            order_id: "o1".into(),
            email: "ann@example.com".into(),
            product_id: "gold".into(),
            amount: "80.00".into(),
            amount_minor: 8000,
            currency: "USD".into(),
        };
        ctx.records.transact(vec![events::record(&ctx, &paid).unwrap()]).await.unwrap();
        let id = outbox::pending(&ctx, 1).read_all().await.unwrap()[0].id.clone();

        ctx.faults.arm_mode(point, 1, Mode::Fail);
        assert!(dispatch_pending(&ctx, 0).await.is_err(), "{point}");
        assert_eq!(outbox::pending(&ctx, 10).read_all().await.unwrap().len(), 1, "{point}: still in the outbox");
        assert_eq!(dispatch_pending(&ctx, 0).await.unwrap(), 1, "{point}");
        assert!(outbox::pending(&ctx, 10).read_all().await.unwrap().is_empty(), "{point}");
        assert_eq!(dispatch_pending(&ctx, 0).await.unwrap(), 0, "{point}: handed on");

        let on_queue = queued(&ctx).await;
        assert!((1..=2).contains(&on_queue.len()) && on_queue.iter().all(|b| b.contains(&id)), "{point}: {on_queue:?}");
        assert_eq!(hooks::deliver_due(&ctx).await.unwrap().delivered, 1, "{point}");
        assert_eq!(r.got().len(), 1, "{point}: the merchant gets it once");
        assert_eq!(r.got()[0].headers["webhook-id"], id);
        let mails = mails::of_event(&ctx, &id).read_all().await.unwrap();
        assert_eq!(mails.len(), 1, "{point}: the buyer's mail is stored once");
    }
}
