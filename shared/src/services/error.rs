use crate::ports::{FileError, ProviderError, QueueError, RecordError};

/// A refusal's problem type (`out-of-warranty`) and title; a static, so
/// `ServiceError` stays small.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub kind: &'static str,
    pub title: &'static str,
}

/// Why a use case failed. The HTTP edge maps each to one status and problem
/// type; event functions ask `is_retryable`.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("only {available} available, {wanted} needed")]
    InsufficientStock { available: i64, wanted: u32 },
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("{0}")]
    AmountMismatch(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InsufficientCredits(String),
    /// A repeat of an open order by someone who did not make it.
    #[error("{0}")]
    OrderOpen(String),
    #[error("too many open orders: {0}")]
    TooMany(String),
    /// Not allowed in this state, with a problem type of its own (409).
    #[error("{detail}")]
    Refused { why: &'static Refusal, detail: String },
    /// No proof, or a proof that failed (a bad session or sign-in link).
    #[error("{0}")]
    Unauthorized(String),
    /// Too many requests of one kind; try again after `retry_after_secs`.
    #[error("{detail}")]
    RateLimited { detail: String, retry_after_secs: u64 },
    #[error("payment provider failed")]
    ProviderDown(#[source] ProviderError),
    /// A crash injected by a test at a named step.
    #[error("injected fault at {0}")]
    Injected(&'static str),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ServiceError {
    /// Whether trying again later may succeed (queue consumers leave such
    /// messages for redelivery).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ServiceError::Internal(_)
                | ServiceError::Injected(_)
                | ServiceError::ProviderDown(_)
                | ServiceError::Conflict(_)
        )
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ServiceError::Internal(e.into())
    }
}

impl From<RecordError> for ServiceError {
    /// A transaction conflict is another writer's timing, not a fault: the
    /// caller may retry (409 + Retry-After, redelivery for queue consumers).
    /// Everything else is ours to look into.
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Conflict => ServiceError::Conflict("the records changed at the same time; try again".into()),
            other => ServiceError::Internal(anyhow::Error::new(other).context("record store")),
        }
    }
}

impl From<FileError> for ServiceError {
    fn from(e: FileError) -> Self {
        ServiceError::Internal(anyhow::Error::new(e).context("file store"))
    }
}

impl From<QueueError> for ServiceError {
    fn from(e: QueueError) -> Self {
        ServiceError::Internal(anyhow::Error::new(e).context("queue"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_conflict_is_a_conflict_not_an_internal_error() {
        let e = ServiceError::from(RecordError::Conflict);
        assert!(matches!(e, ServiceError::Conflict(_)), "{e:?}");
        assert!(e.is_retryable());
    }

    #[test]
    fn other_record_errors_stay_internal_with_their_cause() {
        let cases = [
            RecordError::ConditionFailed { index: 0, current: None },
            RecordError::Invalid("too many items".into()),
            RecordError::Unavailable(anyhow::anyhow!("connection reset")),
        ];
        for case in cases {
            let shown = case.to_string();
            match ServiceError::from(case) {
                ServiceError::Internal(err) => {
                    assert_eq!(err.to_string(), "record store");
                    assert_eq!(err.chain().nth(1).map(ToString::to_string), Some(shown));
                }
                other => panic!("{shown}: {other:?}"),
            }
        }
    }

    #[test]
    fn file_and_queue_errors_are_internal() {
        assert!(matches!(ServiceError::from(FileError::NotFound("k".into())), ServiceError::Internal(_)));
        assert!(matches!(ServiceError::from(QueueError::BadReceipt), ServiceError::Internal(_)));
    }
}
