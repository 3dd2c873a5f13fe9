//! One transaction builder for every use case. Each write carries a tag
//! saying what it is, so a refused commit says which of the caller's
//! conditions failed in the caller's own terms (never a position). A
//! transaction that moves stock (ledger entries, or a check on the counts)
//! commits through the stock book: its entries and the new counters ride in
//! the same transaction (invariant 7), retried while only the counters moved
//! (`stock_queue.rs`, which may put it in one transaction with other stock
//! commits of this process, each still all or nothing).

use super::stock::StockEntry;
use super::stock_queue::{Answer, Check};
use super::{Ctx, ServiceError};
use crate::domain::StockCounts;
use crate::ports::{RecordError, Write};

/// A transaction being built.
pub struct Tx<T> {
    writes: Vec<Write>,
    tags: Vec<T>,
    entries: Vec<StockEntry>,
    check: Option<Check>,
}

/// How a commit ended when the store answered.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum Commit<T> {
    Done,
    /// The write tagged so failed its condition; nothing was written.
    Refused(T),
}

impl<T> Commit<T> {
    pub fn is_done(&self) -> bool {
        matches!(self, Commit::Done)
    }
}

impl<T: Copy> Default for Tx<T> {
    fn default() -> Self {
        Tx { writes: Vec::new(), tags: Vec::new(), entries: Vec::new(), check: None }
    }
}

impl<T: Copy> Tx<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, tag: T, write: Write) -> &mut Self {
        self.writes.push(write);
        self.tags.push(tag);
        self
    }

    pub fn extend(&mut self, tag: T, writes: impl IntoIterator<Item = Write>) -> &mut Self {
        for w in writes {
            self.push(tag, w);
        }
        self
    }

    /// A stock ledger line this change books.
    pub fn stock(&mut self, entry: StockEntry) -> &mut Self {
        self.entries.push(entry);
        self
    }

    /// Refuses the commit (with the check's error) unless the counts before
    /// it pass, for example when stock is short.
    pub fn check(
        &mut self,
        check: impl Fn(&StockCounts) -> Result<(), ServiceError> + Send + Sync + 'static,
    ) -> &mut Self {
        self.check = Some(Box::new(check));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.entries.is_empty()
    }

    /// Commits all of it or nothing. A contended transaction is
    /// `ServiceError::Conflict`; a failed condition of one of these writes is
    /// `Commit::Refused` with its tag.
    pub async fn commit(self, ctx: &Ctx) -> Result<Commit<T>, ServiceError> {
        if self.entries.is_empty() && self.check.is_none() {
            if self.writes.is_empty() {
                return Ok(Commit::Done);
            }
            return match ctx.records.transact(self.writes).await {
                Ok(()) => Ok(Commit::Done),
                Err(e) => refusal(e, &self.tags).map(Commit::Refused),
            };
        }
        self.commit_stock(ctx).await
    }

    /// Through the process's stock queue (`stock_queue.rs`), which may
    /// commit it in one transaction with others.
    async fn commit_stock(self, ctx: &Ctx) -> Result<Commit<T>, ServiceError> {
        let Tx { writes, tags, entries, check, .. } = self;
        match ctx.stock_queue.commit(ctx, writes, entries, check).await? {
            Answer::Done => Ok(Commit::Done),
            Answer::Refused(i) => match tags.get(i) {
                Some(tag) => Ok(Commit::Refused(*tag)),
                None => Err(ServiceError::internal(anyhow::anyhow!("condition failed on write {i} of {}", tags.len()))),
            },
        }
    }
}

/// A failed transaction in the caller's terms: the tag of the refused write,
/// or the error to give up with.
fn refusal<T: Copy>(e: RecordError, tags: &[T]) -> Result<T, ServiceError> {
    match e {
        RecordError::ConditionFailed { index, .. } => match tags.get(index) {
            Some(tag) => Ok(*tag),
            None => Err(ServiceError::internal(anyhow::anyhow!("condition failed on write {index} of {}", tags.len()))),
        },
        RecordError::Conflict => Err(ServiceError::Conflict("another change was being made at the same time".into())),
        e => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LedgerKind;
    use crate::ports::{Cond, Key};
    use crate::services::items::to_item;
    use crate::services::keys;
    use crate::testkit::stack::embedded_ctx;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Tag {
        First,
        Second,
    }

    fn put(pk: &str, cond: Option<Cond>) -> Write {
        let item = to_item(&Key::new(pk, "X"), &serde_json::json!({"v": 1}), None, None).unwrap();
        Write::Put { item, cond }
    }

    #[tokio::test]
    async fn a_refused_commit_names_the_write_by_its_tag_with_or_without_stock() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = embedded_ctx(dir.path());
        let mut tx = Tx::new();
        tx.push(Tag::First, put("A", None));
        assert_eq!(tx.commit(&ctx).await.unwrap(), Commit::Done);

        let mut tx = Tx::new();
        tx.push(Tag::First, put("B", None)).push(Tag::Second, put("A", Some(Cond::NotExists)));
        assert_eq!(tx.commit(&ctx).await.unwrap(), Commit::Refused(Tag::Second));
        assert!(ctx.records.get(&Key::new("B", "X")).await.unwrap().is_none(), "nothing written");

        let entry = StockEntry {
            kind: LedgerKind::Restock,
            file: None,
            change: crate::services::stock::delta(1, 0, 0),
            reason: "t".into(),
            reference: "t".into(),
            actor: "t".into(),
        };
        let mut tx = Tx::new();
        tx.push(Tag::First, put("A", Some(Cond::NotExists))).stock(entry.clone());
        assert_eq!(tx.commit(&ctx).await.unwrap(), Commit::Refused(Tag::First));
        assert!(ctx.records.get(&keys::stock_counts()).await.unwrap().is_none(), "no counters written");

        let mut tx: Tx<Tag> = Tx::new();
        tx.stock(entry);
        assert!(tx.commit(&ctx).await.unwrap().is_done());
        assert_eq!(crate::services::stock::read_counts(&ctx).await.unwrap().counts.unused, 1);

        let mut tx: Tx<Tag> = Tx::new();
        tx.check(|c| if c.unused > 5 { Ok(()) } else { Err(ServiceError::BadInput("short".into())) });
        assert!(matches!(tx.commit(&ctx).await, Err(ServiceError::BadInput(_))));
    }
}
