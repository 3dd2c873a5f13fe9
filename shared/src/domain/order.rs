use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an order stands. States only move forward (see `Transition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Confirming,
    PartiallyPaid,
    Paid,
    Fulfilled,
    Backordered,
    Expired,
    Failed,
    Refunded,
}

/// What asking to move an order to a new status comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Move to the new status.
    Move,
    /// Already there: nothing to do (a duplicate).
    Same,
    /// Not allowed: the order is past that point (a late or stray event).
    Refused,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::Pending,
        OrderStatus::Confirming,
        OrderStatus::PartiallyPaid,
        OrderStatus::Paid,
        OrderStatus::Fulfilled,
        OrderStatus::Backordered,
        OrderStatus::Expired,
        OrderStatus::Failed,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirming => "confirming",
            OrderStatus::PartiallyPaid => "partially_paid",
            OrderStatus::Paid => "paid",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Backordered => "backordered",
            OrderStatus::Expired => "expired",
            OrderStatus::Failed => "failed",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether `self -> to` is allowed:
    /// pending -> confirming -> paid -> fulfilled; unpaid -> partially_paid,
    /// expired, failed; paid -> backordered -> fulfilled; paid, backordered or
    /// fulfilled -> refunded; money received for an order that never became
    /// paid (partially paid, then lapsed or failed) -> refunded too. A verified payment that lands after the hold
    /// lapsed (expired/failed -> paid) is accepted, so nobody pays for nothing:
    /// fulfilment then finds stock or backorders.
    /// Pending and confirming -> refunded too: a provider may deliver the
    /// refund of a payment before the payment itself, and refunded is final,
    /// so the payment that follows is refused (staff refunds still need money
    /// received, `refunds.rs`).
    pub fn can_move_to(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Pending, Confirming | PartiallyPaid | Paid | Expired | Failed | Refunded)
                | (Confirming, PartiallyPaid | Paid | Expired | Failed | Refunded)
                | (PartiallyPaid, Paid | Expired | Failed | Refunded)
                | (Expired | Failed, Paid | Refunded)
                | (Paid, Fulfilled | Backordered | Refunded)
                | (Backordered, Fulfilled | Refunded)
                | (Fulfilled, Refunded)
        )
    }

    pub fn transition(self, to: OrderStatus) -> Transition {
        if self == to {
            Transition::Same
        } else if self.can_move_to(to) {
            Transition::Move
        } else {
            Transition::Refused
        }
    }

    /// Unpaid and still holding stock.
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Confirming | OrderStatus::PartiallyPaid)
    }

    /// Money has been taken and not given back.
    pub fn is_paid(self) -> bool {
        matches!(self, OrderStatus::Paid | OrderStatus::Fulfilled | OrderStatus::Backordered)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn allowed_transitions_are_exactly_these() {
        let allowed = [
            (Pending, Confirming),
            (Pending, PartiallyPaid),
            (Pending, Paid),
            (Pending, Expired),
            (Pending, Failed),
            (Pending, Refunded),
            (Confirming, PartiallyPaid),
            (Confirming, Paid),
            (Confirming, Expired),
            (Confirming, Failed),
            (Confirming, Refunded),
            (PartiallyPaid, Paid),
            (PartiallyPaid, Expired),
            (PartiallyPaid, Failed),
            (PartiallyPaid, Refunded),
            (Expired, Paid),
            (Expired, Refunded),
            (Failed, Paid),
            (Failed, Refunded),
            (Paid, Fulfilled),
            (Paid, Backordered),
            (Paid, Refunded),
            (Backordered, Fulfilled),
            (Backordered, Refunded),
            (Fulfilled, Refunded),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let expect = allowed.contains(&(from, to));
                assert_eq!(from.can_move_to(to), expect, "{from} -> {to}");
                let t = from.transition(to);
                let want = if from == to {
                    Transition::Same
                } else if expect {
                    Transition::Move
                } else {
                    Transition::Refused
                };
                assert_eq!(t, want, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn late_confirming_never_undoes_paid_or_fulfilled() {
        for done in [Paid, Fulfilled, Backordered, Refunded] {
            assert_eq!(done.transition(Confirming), Transition::Refused);
            assert_eq!(done.transition(Pending), Transition::Refused);
        }
        assert_eq!(Refunded.transition(Fulfilled), Transition::Refused);
    }

    #[test]
    fn a_refund_delivered_before_its_payment_is_final() {
        for open in [Pending, Confirming, PartiallyPaid] {
            assert_eq!(open.transition(Refunded), Transition::Move, "{open}");
        }
        for late in [Confirming, PartiallyPaid, Paid, Expired, Failed] {
            assert_eq!(Refunded.transition(late), Transition::Refused, "{late}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::Value::String(s.as_str().into()));
        }
    }
}
