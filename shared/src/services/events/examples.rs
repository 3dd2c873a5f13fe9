//! One example of every event, as the code makes it: the OpenAPI catalogue
//! shows them, and tests render mails and check schemas against them.

use serde_json::json;

use super::Event;
use crate::domain::{Direction, EndReason, EntryKind, Location};

const WHEN: &str = "2027-01-02T00:00:00Z";

fn s(v: &str) -> String {
    v.to_string()
}

/// Every variant once (a test keeps it so).
pub fn examples() -> Vec<Event> {
    let email = || s("buyer@example.com");
    let mut all = vec![
        Event::OrderOverpaid { order_id: s("01JORDER"), excess: s("5.00"), received: Some(s("85.00")) },
        Event::OrderLinkRequested { order_id: s("01JORDER"), email: email() },
        Event::OrderPaid {
            order_id: s("01JORDER"),
            email: email(),
            product_id: s("gold"),
            amount: s("80.00"),
            amount_minor: 8000,
            currency: s("USD"),
        },
        Event::OrderPartiallyPaid {
            order_id: s("01JORDER"),
            email: email(),
            missing: Some(s("0.0004 BTC")),
            reserved_until: s(WHEN),
        },
        Event::OrderFulfilled {
            order_id: s("01JORDER"),
            email: email(),
            product_id: s("gold"),
            subscription_id: Some(s("S01JORDER")),
            files: vec![s("acct-1.session"), s("acct-2.session"), s("acct-3.session")],
            valid_until: Some(s(WHEN)),
        },
        Event::OrderBackordered { order_id: s("01JORDER"), files: 3, product_id: s("gold"), email: email() },
        Event::OrderRefunded { order_id: s("01JORDER"), email: email(), method: Some(s("provider")) },
        Event::OrderExpired { order_id: s("01JORDER"), email: email() },
        Event::OrderFailed { order_id: s("01JORDER"), email: email() },
        Event::OrderStranded {
            order_id: s("01JRENEW"),
            subscription_id: Some(s("S01JORDER")),
            why: s("the subscription ended before this renewal was paid"),
        },
        Event::SubscriptionActivated {
            subscription_id: s("S01JORDER"),
            order_id: s("01JORDER"),
            user_id: s("u_5f2c"),
            files: vec![s("acct-1.session")],
            interval_seconds: 1200,
            valid_until: s(WHEN),
        },
        Event::SubscriptionRenewed {
            subscription_id: s("S01JORDER"),
            order_id: s("01JRENEW"),
            email: email(),
            previous_valid_until: s("2026-12-03T00:00:00Z"),
            valid_until: s(WHEN),
        },
        Event::SubscriptionExpiringSoon {
            subscription_id: s("S01JORDER"),
            email: email(),
            product_id: s("gold"),
            valid_until: s(WHEN),
            hours_left: 72,
        },
        Event::SubscriptionGrace {
            subscription_id: s("S01JORDER"),
            email: email(),
            valid_until: s(WHEN),
            files_return_at: s("2027-01-03T00:00:00Z"),
        },
        Event::SubscriptionEnded {
            subscription_id: s("S01JORDER"),
            order_id: s("01JORDER"),
            email: email(),
            reason: EndReason::Expired,
            files: vec![s("acct-1.session")],
            note: None,
        },
        Event::FileReplaced {
            subscription_id: s("S01JORDER"),
            order_id: s("01JORDER"),
            user_id: s("u_5f2c"),
            email: email(),
            file: s("acct-1.session"),
            replacement: s("acct-9.session"),
            reason: s("banned by the network"),
        },
        Event::FileFlagged {
            subscription_id: s("S01JORDER"),
            order_id: s("01JORDER"),
            user_id: s("u_5f2c"),
            email: email(),
            file: s("acct-1.session"),
            reason: s("banned by the network"),
        },
        Event::StockLow { product_id: s("gold"), available: 4, threshold: 6, days_of_cover: Some(2.5) },
        Event::StockSoldOut { product_id: s("elite"), available: 9, days_of_cover: Some(0.8) },
        Event::StockRestocked { product_id: s("elite"), available: 40 },
        Event::CreditsPosted {
            transfer_id: s("01JTRANSFER"),
            email: email(),
            origin: EntryKind::Earn,
            direction: Direction::In,
            amount: 8,
            order_id: Some(s("01JORDER")),
        },
        Event::OpsAlert {
            kind: s("job_failed"),
            message: s("the expire job failed at: release_holds"),
            details: json!({"release_holds": "the store did not answer"}),
        },
        Event::StockGhost {
            file: s("acct-1.session"),
            user_id: Some(s("u_5f2c")),
            order_id: Some(s("01JORDER")),
            now_at: s("unused/acct-1.session"),
        },
        Event::StaffChanged {
            email: s("clerk@shop.example"),
            action: s("added"),
            role: crate::domain::Role::CustomerService,
            disabled: false,
            actor: s("staff:admin@shop.example"),
        },
        Event::StockLost { file: s("acct-1.session"), location: Location::Unused, user_id: None, order_id: None },
    ];
    if let Some(before) = crate::domain::default_catalog().ok().and_then(|c| c.into_iter().next()) {
        let mut after = before.clone();
        after.price.amount = 3500;
        all.push(Event::CatalogChanged {
            product_id: before.id.clone(),
            actor: s("admin@shop.example"),
            before: Some(Box::new(before)),
            after: Box::new(after),
        });
    }
    all
}
