//! Records: a single-table key/value store with DynamoDB's semantics.
//!
//! An item is a JSON object. Reserved attributes: `pk`, `sk` (the key),
//! `gsi1pk`/`gsi1sk` (the one secondary index; an item without both is not in
//! it) and `ttl` (epoch seconds; the store may delete the item some time after).
//! Reads never hide expired items: TTL is garbage collection, not logic.

use async_trait::async_trait;
use serde_json::{Map, Value};

pub type Item = Map<String, Value>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const TTL: &str = "ttl";

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }

    /// The key of an item, if it has string `pk` and `sk`.
    pub fn of(item: &Item) -> Option<Key> {
        let pk = item.get(PK)?.as_str()?;
        let sk = item.get(SK)?.as_str()?;
        Some(Key::new(pk, sk))
    }
}

/// A condition on the current item (evaluated before the write, atomically).
/// Attribute names are top-level names of the item.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// The item exists.
    Exists,
    /// The item does not exist.
    NotExists,
    /// The attribute exists and equals the value.
    Eq(String, Value),
    /// The attribute is absent or differs from the value.
    Ne(String, Value),
    /// The attribute is a number >= the value.
    Ge(String, i64),
    /// The attribute is a number <= the value.
    Le(String, i64),
    /// The attribute exists and equals one of the values.
    In(String, Vec<Value>),
    /// The attribute is absent.
    Absent(String),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    pub fn eq(name: &str, v: impl Into<Value>) -> Cond {
        Cond::Eq(name.to_string(), v.into())
    }
}

/// One change of an update. An update of a missing item creates it (with its
/// key), as DynamoDB's UpdateItem does; guard with `Cond::Exists` when that is
/// not wanted.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Set(String, Value),
    /// Add to a number attribute (a missing attribute counts as 0).
    Add(String, i64),
    Remove(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    Put {
        item: Item,
        cond: Option<Cond>,
    },
    Update {
        key: Key,
        changes: Vec<Change>,
        cond: Option<Cond>,
    },
    Delete {
        key: Key,
        cond: Option<Cond>,
    },
    /// Only checks a condition, writes nothing.
    Check {
        key: Key,
        cond: Cond,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// The table itself: partition `pk`, sort `sk`.
    Table,
    /// The secondary index: partition `gsi1pk`, sort `gsi1sk`. Eventually
    /// consistent on DynamoDB: re-check what you read before acting on it.
    Gsi1,
}

/// Sort-key range of a query. `Between` is inclusive at both ends.
#[derive(Clone, Debug, PartialEq)]
pub enum SkRange {
    All,
    Prefix(String),
    Between(String, String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SkRange,
    /// Items at most in this page (the store may return fewer and a cursor).
    pub limit: usize,
    /// Newest (largest sort key) first.
    pub descending: bool,
    /// Where the previous page stopped, as returned in `Page::next`.
    pub cursor: Option<String>,
}

impl Query {
    pub fn new(index: Index, pk: impl Into<String>) -> Self {
        Query { index, pk: pk.into(), sk: SkRange::All, limit: 100, descending: false, cursor: None }
    }
    pub fn sk(mut self, sk: SkRange) -> Self {
        self.sk = sk;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Opaque; present when more items may follow.
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A condition failed. `index` is the position of the failing write in a
    /// transaction (0 for single writes); `current` is the item as it stood,
    /// when the backend returns it.
    #[error("condition failed on write {index}")]
    ConditionFailed { index: usize, current: Option<Item> },
    /// Another transaction touched the same items at the same time; retry.
    #[error("transaction conflict")]
    Conflict,
    /// The request itself is wrong (too many items, missing key, bad value).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The store could not be reached or failed; retry later.
    #[error("record store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// Most items one transaction may hold (DynamoDB's TransactWriteItems limit).
pub const MAX_TRANSACTION_ITEMS: usize = 100;

#[async_trait]
pub trait Records: Send + Sync {
    /// Strongly consistent read.
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError>;
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError>;
    /// Applies the changes and returns the item as it is after them.
    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError>;
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError>;
    /// All or nothing, at most `MAX_TRANSACTION_ITEMS` writes, each key at most
    /// once. On a failed condition nothing is written and the error names the
    /// write.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError>;
    async fn query(&self, query: Query) -> Result<Page, RecordError>;
}
