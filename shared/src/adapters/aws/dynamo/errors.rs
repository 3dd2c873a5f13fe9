//! SDK errors -> `RecordError`.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

use super::convert::{Attrs, from_attrs};
use crate::ports::records::{Item, RecordError};

/// A failed condition; `current` is the item when the store returned it.
pub(super) fn condition_failed(index: usize, current: Option<&Attrs>) -> RecordError {
    // Without the item the caller can still act (it re-reads); a bad item is
    // not worth hiding the condition failure behind.
    let current: Option<Item> = current.filter(|a| !a.is_empty()).and_then(|a| from_attrs(a.clone()).ok());
    RecordError::ConditionFailed { index, current }
}

/// Any other failure: a bad request is `Invalid`, a write racing a transaction
/// is `Conflict`, everything else (throttling, network, 5xx) is `Unavailable`.
pub(super) fn classify<E, R>(op: &str, err: SdkError<E, R>) -> RecordError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = if matches!(err, SdkError::ServiceError(_)) { err.code() } else { None };
    match code {
        Some("ValidationException" | "SerializationException") => {
            RecordError::Invalid(format!("{op}: {}", DisplayErrorContext(&err)))
        }
        Some("TransactionConflictException") => RecordError::Conflict,
        _ => RecordError::Unavailable(anyhow::anyhow!("{op}: {}", DisplayErrorContext(&err))),
    }
}

/// A cancelled transaction: the first failed condition wins, then conflicts,
/// then invalid writes; anything else (throttling, capacity) is retryable.
pub(super) fn cancelled(reasons: &[CancellationReason], message: &str) -> RecordError {
    let code = |r: &CancellationReason| r.code().unwrap_or("None").to_string();
    if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
        return condition_failed(index, reasons[index].item());
    }
    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
        return RecordError::Conflict;
    }
    if let Some(r) = reasons.iter().find(|r| r.code() == Some("ValidationError")) {
        return RecordError::Invalid(format!("transaction: {}", r.message().unwrap_or(message)));
    }
    let codes: Vec<String> = reasons.iter().map(code).collect();
    RecordError::Unavailable(anyhow::anyhow!("transaction cancelled ({}): {message}", codes.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder().code(code).build()
    }

    #[test]
    fn first_failed_condition_names_its_write() {
        let failed = CancellationReason::builder()
            .code("ConditionalCheckFailed")
            .item("pk", AttributeValue::S("p".into()))
            .item("sk", AttributeValue::S("s".into()))
            .build();
        let reasons = [reason("None"), reason("TransactionConflict"), failed];
        match cancelled(&reasons, "m") {
            RecordError::ConditionFailed { index: 2, current: Some(item) } => assert_eq!(item["pk"], "p"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(cancelled(&[reason("None"), reason("TransactionConflict")], "m"), RecordError::Conflict));
        assert!(matches!(cancelled(&[reason("ValidationError")], "m"), RecordError::Invalid(_)));
        assert!(matches!(cancelled(&[reason("ThrottlingError")], "m"), RecordError::Unavailable(_)));
    }
}
