//! Which mails each event causes: one table, to adjust as the event
//! catalogue changes. An event type not in it sends nothing.

/// Who a mail goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum To {
    /// The address in the event's `data.email`.
    Buyer,
    /// Every address of `STOCKROOM_STAFF_EMAIL`, one mail each.
    Staff,
}

impl To {
    pub fn as_str(self) -> &'static str {
        match self {
            To::Buyer => "buyer",
            To::Staff => "staff",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The event type.
    pub event: &'static str,
    /// Templates `{template}.txt` and `{template}.html`.
    pub template: &'static str,
    pub to: To,
}

const fn rule(event: &'static str, template: &'static str, to: To) -> Rule {
    Rule { event, template, to }
}

pub const RULES: &[Rule] = &[
    rule("order.paid", "payment_received", To::Buyer),
    rule("order.partially_paid", "partially_paid", To::Buyer),
    rule("order.fulfilled", "delivered", To::Buyer),
    rule("order.link_requested", "order_link", To::Buyer),
    rule("subscription.expiring_soon", "expiring_soon", To::Buyer),
    rule("subscription.grace_started", "grace_started", To::Buyer),
    rule("subscription.ended", "ended", To::Buyer),
    rule("subscription.file_replaced", "file_replaced", To::Buyer),
    rule("order.backordered", "backordered", To::Staff),
    rule("stock.low", "stock_low", To::Staff),
    rule("stock.sold_out", "sold_out", To::Staff),
    rule("stock.lost", "file_lost", To::Staff),
    rule("stock.ghost", "file_lost", To::Staff),
    rule("ops.alert", "ops_alert", To::Staff),
];

/// The mails `event_type` causes.
pub fn for_event(event_type: &str) -> impl Iterator<Item = &'static Rule> + '_ {
    RULES.iter().filter(move |r| r.event == event_type)
}

/// Templates sent directly (`mail::send_now`), not for an event: they
/// carry a credential that must not pass the event log or a webhook.
pub const DIRECT: &[&str] = &["sign_in"];
