//! The ClientRequestToken of a DynamoDB transaction (TransactWriteItems).
//! Kept apart from the SDK so the fast test loop checks it.
//!
//! Why not the writes' content alone: DynamoDB answers a second request with
//! the same token, within ten minutes, with the first one's success and
//! applies nothing. Identical transactions do happen and must each be
//! decided by their conditions: a webhook delivered a hundred times at once
//! (tests/crash storm) builds the same event put and order update in every
//! racer that reads the clock in the same millisecond, and only the
//! conditions may pick the one that wins (invariant 4). A content-only token
//! would tell every racer it won. Nothing in the `Records` contract makes a
//! transaction unique (a version-conditioned write is, but not every write
//! carries a version), so uniqueness cannot be assumed here.
//!
//! So the token is derived from one call's id and that call's writes: the
//! SDK's own retries and ours (after TransactionInProgressException) resend
//! the same request under it, and learn the first attempt's outcome instead
//! of seeing their own earlier write as a conflict; two calls never share
//! one. The content is in it too, so a call that somehow rebuilt different
//! writes gets a new token rather than IdempotentParameterMismatch.

use sha2::{Digest, Sha256};

use crate::ports::records::Write;

/// DynamoDB's limit on ClientRequestToken.
pub const MAX_TOKEN_LEN: usize = 36;

/// Hex SHA-256 of the call id and the writes, cut to 36 characters (144
/// bits, far beyond a collision within ten minutes).
pub fn transaction_token(call_id: &str, writes: &[Write]) -> String {
    let mut hash = Sha256::new();
    hash.update(call_id.as_bytes());
    hash.update([0]);
    // Debug text is a faithful rendering of every field (items are ordered
    // maps); it is only ever compared with itself within one process.
    hash.update(format!("{writes:?}").as_bytes());
    let mut token = hex::encode(hash.finalize());
    token.truncate(MAX_TOKEN_LEN);
    token
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ports::records::{Change, Cond, Key};

    fn writes(n: i64) -> Vec<Write> {
        let item = json!({"pk": "ORDER#1", "sk": "ORDER", "status": "paid"}).as_object().unwrap().clone();
        vec![
            Write::Put { item, cond: Some(Cond::NotExists) },
            Write::Update {
                key: Key::new("LIMIT#a", "LIMIT"),
                changes: vec![Change::Add("open".into(), n)],
                cond: None,
            },
        ]
    }

    #[test]
    fn same_call_and_writes_give_the_same_token() {
        assert_eq!(transaction_token("c1", &writes(-1)), transaction_token("c1", &writes(-1)));
    }

    #[test]
    fn other_writes_or_another_call_give_another_token() {
        let base = transaction_token("c1", &writes(-1));
        assert_ne!(base, transaction_token("c1", &writes(1)));
        assert_ne!(base, transaction_token("c2", &writes(-1)), "identical writes of two calls are two transactions");
        assert_ne!(base, transaction_token("c1", &writes(-1)[..1]));
        // The separator keeps the call id from running into the writes.
        assert_ne!(transaction_token("c", &[]), transaction_token("", &[]));
    }

    #[test]
    fn tokens_fit_dynamodb() {
        for t in [transaction_token("", &[]), transaction_token(&"x".repeat(1000), &writes(7))] {
            assert_eq!(t.len(), MAX_TOKEN_LEN);
            assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
}
