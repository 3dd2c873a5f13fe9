use serde::{Deserialize, Serialize};

use super::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    Active,
    Grace,
    Expired,
    Revoked,
}

/// Grace after valid_until during which files stay but the bot may not run.
pub const GRACE_MILLIS: i64 = 24 * 3600 * 1000;

/// The state a subscription is in at `now`, from its dates alone.
pub fn subscription_state(valid_until: Timestamp, revoked: bool, now: Timestamp) -> SubscriptionState {
    if revoked {
        SubscriptionState::Revoked
    } else if now < valid_until {
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
        assert_eq!(subscription_state(until, false, Timestamp(until.0 - 1)), SubscriptionState::Active);
        assert_eq!(subscription_state(until, false, until), SubscriptionState::Grace);
        assert_eq!(subscription_state(until, false, until.plus_millis(GRACE_MILLIS - 1)), SubscriptionState::Grace);
        assert_eq!(subscription_state(until, false, until.plus_millis(GRACE_MILLIS)), SubscriptionState::Expired);
        assert_eq!(subscription_state(until, true, Timestamp(0)), SubscriptionState::Revoked);
    }
}
