//! Builds DynamoDB expressions from `Cond`, `Change` and key ranges. Every
//! name and value goes through a placeholder (`#n0`, `:v0`): names are never
//! spliced into the expression text.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::ports::records::{Change, Cond, GSI1PK, GSI1SK, Index, PK, RecordError, SK, SkRange};

/// Never written: the target of a no-op REMOVE.
const NOOP_ATTR: &str = "stockroom_noop";

/// An expression under construction: its placeholders, shared by every
/// expression of one request (condition, update, key condition).
#[derive(Debug, Default)]
pub(super) struct Placeholders {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Placeholders {
    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_string());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn json(&mut self, value: &Value) -> Result<String, RecordError> {
        let av = serde_dynamo::to_attribute_value(value)
            .map_err(|e| RecordError::Invalid(format!("value not storable: {e}")))?;
        Ok(self.value(av))
    }

    fn number(&mut self, n: i64) -> String {
        self.value(AttributeValue::N(n.to_string()))
    }

    /// `ConditionExpression` text for a condition.
    pub(super) fn cond(&mut self, cond: &Cond) -> Result<String, RecordError> {
        Ok(match cond {
            Cond::Exists => format!("attribute_exists({})", self.name(PK)),
            Cond::NotExists => format!("attribute_not_exists({})", self.name(PK)),
            Cond::Eq(a, v) => format!("{} = {}", self.name(a), self.json(v)?),
            Cond::Ne(a, v) => {
                let (n, v) = (self.name(a), self.json(v)?);
                format!("(attribute_not_exists({n}) OR {n} <> {v})")
            }
            Cond::Ge(a, n) => self.compare(a, ">=", *n),
            Cond::Le(a, n) => self.compare(a, "<=", *n),
            // DynamoDB refuses an empty IN list; an empty set matches nothing.
            Cond::In(_, vs) if vs.is_empty() => self.never(),
            Cond::In(a, vs) => {
                let n = self.name(a);
                let vs = vs.iter().map(|v| self.json(v)).collect::<Result<Vec<_>, _>>()?;
                format!("{n} IN ({})", vs.join(", "))
            }
            Cond::Absent(a) => format!("attribute_not_exists({})", self.name(a)),
            Cond::And(cs) if cs.is_empty() => self.always(),
            Cond::Or(cs) if cs.is_empty() => self.never(),
            Cond::And(cs) => self.join(cs, " AND ")?,
            Cond::Or(cs) => self.join(cs, " OR ")?,
        })
    }

    /// A number comparison. The type test first says "a number" outright
    /// (and spares moto comparing a string with a number, which it cannot).
    fn compare(&mut self, attr: &str, op: &str, n: i64) -> String {
        let name = self.name(attr);
        let number_type = self.value(AttributeValue::S("N".into()));
        format!("(attribute_type({name}, {number_type}) AND {name} {op} {})", self.number(n))
    }

    fn join(&mut self, conds: &[Cond], op: &str) -> Result<String, RecordError> {
        // Every part is atomic or parenthesised itself, so one pair suffices.
        let parts = conds.iter().map(|c| self.cond(c)).collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", parts.join(op)))
    }

    fn always(&mut self) -> String {
        let n = self.name(PK);
        format!("(attribute_exists({n}) OR attribute_not_exists({n}))")
    }

    fn never(&mut self) -> String {
        let n = self.name(PK);
        format!("(attribute_exists({n}) AND attribute_not_exists({n}))")
    }

    /// `UpdateExpression` text for the changes. No changes still upsert the
    /// item (with its key), as UpdateItem does: removing an attribute nobody
    /// writes is a valid no-op everywhere (moto fails an update without one).
    pub(super) fn update(&mut self, changes: &[Change]) -> Result<String, RecordError> {
        if changes.is_empty() {
            return Ok(format!("REMOVE {}", self.name(NOOP_ATTR)));
        }
        let (mut set, mut add, mut remove) = (Vec::new(), Vec::new(), Vec::new());
        for change in changes {
            match change {
                Change::Set(a, v) => set.push(format!("{} = {}", self.name(a), self.json(v)?)),
                Change::Add(a, n) => add.push(format!("{} {}", self.name(a), self.number(*n))),
                Change::Remove(a) => remove.push(self.name(a)),
            }
        }
        let clauses: Vec<String> = [("SET", set), ("ADD", add), ("REMOVE", remove)]
            .into_iter()
            .filter(|(_, parts)| !parts.is_empty())
            .map(|(verb, parts)| format!("{verb} {}", parts.join(", ")))
            .collect();
        Ok(clauses.join(" "))
    }

    /// `KeyConditionExpression` text for a query's partition and sort range.
    pub(super) fn key_condition(&mut self, index: Index, pk: &str, sk: &SkRange) -> String {
        let (pk_name, sk_name) = match index {
            Index::Table => (PK, SK),
            Index::Gsi1 => (GSI1PK, GSI1SK),
        };
        let hash = format!("{} = {}", self.name(pk_name), self.value(AttributeValue::S(pk.to_string())));
        match sk {
            SkRange::All => hash,
            // An empty prefix matches every sort key (and DynamoDB refuses "").
            SkRange::Prefix(p) if p.is_empty() => hash,
            SkRange::Prefix(p) => {
                let (n, v) = (self.name(sk_name), self.value(AttributeValue::S(p.clone())));
                format!("{hash} AND begins_with({n}, {v})")
            }
            SkRange::Between(lo, hi) => {
                let n = self.name(sk_name);
                let (lo, hi) = (self.value(AttributeValue::S(lo.clone())), self.value(AttributeValue::S(hi.clone())));
                format!("{hash} AND {n} BETWEEN {lo} AND {hi}")
            }
        }
    }

    /// `ExpressionAttributeNames` (None when empty: DynamoDB refuses `{}`).
    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// `ExpressionAttributeValues` (None when empty).
    pub(super) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_use_placeholders_only() {
        let mut p = Placeholders::default();
        let cond = Cond::And(vec![
            Cond::Exists,
            Cond::Ne("status".into(), json!("paid")),
            Cond::Or(vec![Cond::Ge("stock".into(), 2), Cond::In("status".into(), vec![json!("a"), json!("b")])]),
        ]);
        let text = p.cond(&cond).unwrap();
        assert_eq!(
            text,
            "(attribute_exists(#n0) AND (attribute_not_exists(#n1) OR #n1 <> :v0) AND \
             ((attribute_type(#n2, :v1) AND #n2 >= :v2) OR #n1 IN (:v3, :v4)))"
        );
        let names = p.names().unwrap();
        assert_eq!(names["#n0"], "pk");
        assert_eq!(names["#n1"], "status");
        assert_eq!(p.values().unwrap()[":v2"], AttributeValue::N("2".into()));
    }

    #[test]
    fn update_groups_clauses_and_empty_is_a_no_op() {
        let mut p = Placeholders::default();
        let changes = vec![Change::Set("a".into(), json!({})), Change::Add("n".into(), -3), Change::Remove("b".into())];
        assert_eq!(p.update(&changes).unwrap(), "SET #n0 = :v0 ADD #n1 :v1 REMOVE #n2");
        assert_eq!(Placeholders::default().update(&[]).unwrap(), "REMOVE #n0");
        assert!(Placeholders::default().names().is_none());
    }

    #[test]
    fn key_condition_on_the_index_names_its_keys() {
        let mut p = Placeholders::default();
        let text = p.key_condition(Index::Gsi1, "ORDER", &SkRange::Between("a".into(), "b".into()));
        assert_eq!(text, "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2");
        assert_eq!(p.names().unwrap()["#n1"], "gsi1sk");
    }
}
