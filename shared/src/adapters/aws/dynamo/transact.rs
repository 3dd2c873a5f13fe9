//! `Records::transact` as one TransactWriteItems request.

use std::collections::HashSet;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure as OnFailure, TransactWriteItem, Update,
};

use super::DynamoRecords;
use super::convert::{check_changes, key_attrs, require_key, to_attrs};
use super::errors::{cancelled, classify};
use super::expr::Placeholders;
use crate::adapters::token::transaction_token;
use crate::ports::records::{Key, MAX_TRANSACTION_ITEMS, RecordError, Write};

pub(super) async fn run(records: &DynamoRecords, writes: Vec<Write>) -> Result<(), RecordError> {
    if writes.is_empty() {
        return Ok(());
    }
    // Checked here too, so the answer does not depend on how strict the
    // server (or an emulator) is.
    if writes.len() > MAX_TRANSACTION_ITEMS {
        return Err(RecordError::Invalid(format!("{} writes, at most {MAX_TRANSACTION_ITEMS}", writes.len())));
    }
    let mut seen = HashSet::new();
    for write in &writes {
        let key = write_key(write)?;
        if !seen.insert(key.clone()) {
            return Err(RecordError::Invalid(format!("key {}/{} written twice in one transaction", key.pk, key.sk)));
        }
    }
    // One token per call, reused by every retry of it (see adapters::token).
    let token = transaction_token(&ulid::Ulid::new().to_string(), &writes);
    let items = writes.into_iter().map(|w| item(&records.table, w)).collect::<Result<Vec<_>, _>>()?;
    let mut wait = IN_PROGRESS_FIRST_WAIT;
    let mut attempt = 0;
    loop {
        let req = records
            .client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .client_request_token(token.clone());
        let e = match records.counter.call("dynamodb.TransactWriteItems", req.send()).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match e.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                return Err(cancelled(c.cancellation_reasons(), c.message().unwrap_or("cancelled")));
            }
            // An earlier attempt under this token (an SDK retry after a lost
            // response) is still running: ask again with the same token and
            // get its outcome, rather than guess.
            Some(TransactWriteItemsError::TransactionInProgressException(_)) if attempt < IN_PROGRESS_RETRIES => {
                tracing::warn!(%token, attempt, "transaction still in progress under its token; asking again");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            // Same token, other writes: only a bug in the derivation could do
            // that. Not retryable; nothing was written under this request.
            Some(TransactWriteItemsError::IdempotentParameterMismatchException(_)) => {
                tracing::error!(%token, "ClientRequestToken reused for other writes");
                return Err(RecordError::Invalid(format!("transaction token {token} reused for other writes")));
            }
            // Still in progress after the retries: the outcome is unknown, so
            // the caller re-reads (retryable), as after any lost response.
            _ => return Err(classify("TransactWriteItems", e)),
        }
    }
}

/// Asking again about a transaction still in progress: 50, 100, 200, 400 ms.
const IN_PROGRESS_RETRIES: u32 = 4;
const IN_PROGRESS_FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

fn write_key(write: &Write) -> Result<Key, RecordError> {
    match write {
        Write::Put { item, .. } => require_key(item),
        Write::Update { key, changes, .. } => check_changes(changes).map(|()| key.clone()),
        Write::Delete { key, .. } | Write::Check { key, .. } => Ok(key.clone()),
    }
}

fn item(table: &str, write: Write) -> Result<TransactWriteItem, RecordError> {
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| RecordError::Invalid(e.to_string());
    let mut p = Placeholders::default();
    let builder = TransactWriteItem::builder();
    Ok(match write {
        Write::Put { item, cond } => {
            let text = cond.map(|c| p.cond(&c)).transpose()?;
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(to_attrs(item)?))
                .set_condition_expression(text)
                .set_expression_attribute_names(p.names())
                .set_expression_attribute_values(p.values())
                .return_values_on_condition_check_failure(OnFailure::AllOld)
                .build()
                .map_err(invalid)?;
            builder.put(put).build()
        }
        Write::Update { key, changes, cond } => {
            let text = cond.map(|c| p.cond(&c)).transpose()?;
            let update = p.update(&changes)?;
            let update = Update::builder()
                .table_name(table)
                .set_key(Some(key_attrs(&key)))
                .update_expression(update)
                .set_condition_expression(text)
                .set_expression_attribute_names(p.names())
                .set_expression_attribute_values(p.values())
                .return_values_on_condition_check_failure(OnFailure::AllOld)
                .build()
                .map_err(invalid)?;
            builder.update(update).build()
        }
        Write::Delete { key, cond } => {
            let text = cond.map(|c| p.cond(&c)).transpose()?;
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key_attrs(&key)))
                .set_condition_expression(text)
                .set_expression_attribute_names(p.names())
                .set_expression_attribute_values(p.values())
                .return_values_on_condition_check_failure(OnFailure::AllOld)
                .build()
                .map_err(invalid)?;
            builder.delete(delete).build()
        }
        Write::Check { key, cond } => {
            let text = p.cond(&cond)?;
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key_attrs(&key)))
                .condition_expression(text)
                .set_expression_attribute_names(p.names())
                .set_expression_attribute_values(p.values())
                .return_values_on_condition_check_failure(OnFailure::AllOld)
                .build()
                .map_err(invalid)?;
            builder.condition_check(check).build()
        }
    })
}
