use serde::{Deserialize, Serialize};

use super::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    Active,
    Grace,
    Expired,
    Revoked,
}

/// Why a subscription ended before or at its natural end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Its time (and grace) ran out.
    Expired,
    /// Staff took it away.
    Revoked,
    /// The payment went back.
    Refunded,
}

/// Grace after valid_until during which files stay but the bot may not run.
pub const GRACE_MILLIS: i64 = 24 * 3600 * 1000;

/// The state a subscription is in at `now`: how it ended, else its dates.
pub fn subscription_state(valid_until: Timestamp, ended: Option<EndReason>, now: Timestamp) -> SubscriptionState {
    if let Some(reason) = ended {
        return match reason {
            EndReason::Expired => SubscriptionState::Expired,
            EndReason::Revoked | EndReason::Refunded => SubscriptionState::Revoked,
        };
    }
    if now < valid_until {
        SubscriptionState::Active
    } else if now < valid_until.plus_millis(GRACE_MILLIS) {
        SubscriptionState::Grace
    } else {
        SubscriptionState::Expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_then_grace_then_expired() {
        let until = Timestamp(1_000_000_000);
        assert_eq!(subscription_state(until, None, Timestamp(until.0 - 1)), SubscriptionState::Active);
        assert_eq!(subscription_state(until, None, until), SubscriptionState::Grace);
        assert_eq!(subscription_state(until, None, until.plus_millis(GRACE_MILLIS - 1)), SubscriptionState::Grace);
        assert_eq!(subscription_state(until, None, until.plus_millis(GRACE_MILLIS)), SubscriptionState::Expired);
        assert_eq!(subscription_state(until, Some(EndReason::Revoked), Timestamp(0)), SubscriptionState::Revoked);
        assert_eq!(subscription_state(until, Some(EndReason::Refunded), Timestamp(0)), SubscriptionState::Revoked);
        assert_eq!(subscription_state(until, Some(EndReason::Expired), Timestamp(0)), SubscriptionState::Expired);
    }
}
