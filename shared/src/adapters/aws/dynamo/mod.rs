//! `Records` on one DynamoDB table: keys pk/sk, the index `gsi1` on
//! gsi1pk/gsi1sk, TTL on `ttl`.

mod convert;
mod errors;
mod expr;
mod table;
mod transact;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure as OnFailure};

pub use table::{GSI1, create_table_if_missing};

use self::convert::{check_changes, decode_cursor, encode_cursor, from_attrs, key_attrs, require_key, to_attrs};
use self::errors::{classify, condition_failed};
use self::expr::Placeholders;
use super::metrics::RequestCounter;
use crate::ports::records::{Change, Cond, Index, Item, Key, Page, Query, RecordError, Records, SkRange, Write};

#[derive(Clone, Debug)]
pub struct DynamoRecords {
    client: Client,
    table: String,
    counter: RequestCounter,
}

impl DynamoRecords {
    pub fn new(client: Client, table: impl Into<String>, counter: RequestCounter) -> Self {
        Self { client, table: table.into(), counter }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Condition text plus its placeholders, or nothing without a condition.
    fn condition(cond: Option<&Cond>) -> Result<(Placeholders, Option<String>), RecordError> {
        let mut p = Placeholders::default();
        let text = cond.map(|c| p.cond(c)).transpose()?;
        Ok((p, text))
    }
}

#[async_trait]
impl Records for DynamoRecords {
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError> {
        let req = self.client.get_item().table_name(&self.table).set_key(Some(key_attrs(key))).consistent_read(true);
        let out = self.counter.call("dynamodb.GetItem", req.send()).await.map_err(|e| classify("GetItem", e))?;
        out.item.filter(|a| !a.is_empty()).map(from_attrs).transpose()
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError> {
        require_key(&item)?;
        let (p, text) = Self::condition(cond.as_ref())?;
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(item)?))
            .set_condition_expression(text)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .return_values_on_condition_check_failure(OnFailure::AllOld);
        match self.counter.call("dynamodb.PutItem", req.send()).await {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => Err(condition_failed(0, c.item())),
                _ => Err(classify("PutItem", e)),
            },
        }
    }

    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        check_changes(&changes)?;
        let (mut p, text) = Self::condition(cond.as_ref())?;
        let update = p.update(&changes)?;
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .update_expression(update)
            .set_condition_expression(text)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(OnFailure::AllOld);
        match self.counter.call("dynamodb.UpdateItem", req.send()).await {
            Ok(out) => from_attrs(out.attributes.unwrap_or_else(|| key_attrs(key))),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => Err(condition_failed(0, c.item())),
                _ => Err(classify("UpdateItem", e)),
            },
        }
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        let (p, text) = Self::condition(cond.as_ref())?;
        let req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(text)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .return_values_on_condition_check_failure(OnFailure::AllOld);
        match self.counter.call("dynamodb.DeleteItem", req.send()).await {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(c)) => Err(condition_failed(0, c.item())),
                _ => Err(classify("DeleteItem", e)),
            },
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        transact::run(self, writes).await
    }

    async fn query(&self, query: Query) -> Result<Page, RecordError> {
        if query.limit == 0 {
            return Err(RecordError::Invalid("query limit must be at least 1".into()));
        }
        if let SkRange::Between(lo, hi) = &query.sk {
            if lo.is_empty() || hi.is_empty() {
                return Err(RecordError::Invalid("between: bounds must not be empty strings".into()));
            }
            if lo > hi {
                return Err(RecordError::Invalid("between: lower bound above upper bound".into()));
            }
        }
        let mut p = Placeholders::default();
        let key_condition = p.key_condition(query.index, &query.pk, &query.sk);
        let start = query.cursor.as_deref().map(decode_cursor).transpose()?;
        let req = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name((query.index == Index::Gsi1).then(|| GSI1.to_string()))
            // Only the table can be read consistently; the index never can.
            .set_consistent_read((query.index == Index::Table).then_some(true))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .scan_index_forward(!query.descending)
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        let out = self.counter.call("dynamodb.Query", req.send()).await.map_err(|e| classify("Query", e))?;
        let items = out.items.unwrap_or_default().into_iter().map(from_attrs).collect::<Result<Vec<_>, _>>()?;
        let next = out.last_evaluated_key.filter(|k| !k.is_empty()).map(encode_cursor).transpose()?;
        Ok(Page { items, next })
    }
}
