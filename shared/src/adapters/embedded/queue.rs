//! `Queue` on redb, in the records' database file. Messages live in
//! `(queue, id) -> message`; `(queue, visible_at_ms, id)` indexes them by when
//! they become visible, so a receive reads only what is due.
//!
//! Receipts are `{id}.{nonce}`, a new nonce per receive. Deleting with an
//! older receipt of a message that still exists deletes it: SQS documents
//! that a stale handle's delete "succeeds" and in practice removes the
//! message, and consumers here are idempotent, so the surprise of a message
//! surviving its delete is the worse choice.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use redb::{Database, ReadableTable, Table, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::blocking;
use super::group::{Step, Writer};
use crate::ports::Clock;
use crate::ports::queue::{MAX_RECEIVES, Message, Queue, QueueError};

const MESSAGES: TableDefinition<(String, String), &[u8]> = TableDefinition::new("queue_messages");
const VISIBLE: TableDefinition<(String, i64, String), ()> = TableDefinition::new("queue_visible");

/// Message ids from one generator per process, increasing even within a
/// millisecond, so messages due at once come back in the order sent (plain
/// ULIDs of the same millisecond sort by their random part).
fn next_id() -> String {
    static IDS: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut ids = IDS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Past 2^80 ids in one millisecond: a plain ULID, unordered but unique.
    ids.get_or_insert_with(ulid::Generator::new).generate().unwrap_or_else(|_| ulid::Ulid::new()).to_string()
}

/// SQS returns at most ten messages per receive.
const MAX_BATCH: usize = 10;

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    body: String,
    visible_at: i64,
    receive_count: u32,
    receipt: Option<String>,
}

/// One named queue and its dead-letter queue `{name}-dlq`.
#[derive(Clone)]
pub struct EmbeddedQueue {
    db: Arc<Database>,
    writer: Writer,
    name: String,
    dlq: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EmbeddedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedQueue").field("name", &self.name).finish_non_exhaustive()
    }
}

impl EmbeddedQueue {
    /// The queue `name` (letters, digits, `-`, `_`, like SQS) in `db`,
    /// creating the tables when missing. Blocking.
    pub fn open(db: Arc<Database>, name: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::open_in(Writer::new(db), name, clock)
    }

    /// Like `open`, writing through `writer` so that queue and record writes
    /// share group commits.
    pub(super) fn open_in(writer: Writer, name: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let db = writer.database();
        let valid = !name.is_empty()
            && name.len() <= 75
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        anyhow::ensure!(valid, "invalid queue name {name:?}");
        let txn = db.begin_write().context("creating queue tables")?;
        txn.open_table(MESSAGES).context("creating queue table")?;
        txn.open_table(VISIBLE).context("creating queue index")?;
        txn.commit().context("creating queue tables")?;
        Ok(EmbeddedQueue { db, writer, name: name.to_string(), dlq: format!("{name}-dlq"), clock })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().millis()
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        let (name, now) = (self.name.clone(), self.now_ms());
        let id = next_id();
        let work = move |txn: &WriteTransaction| {
            let msg = Stored { body: body.clone(), visible_at: now, receive_count: 0, receipt: None };
            step(tables(txn).and_then(|(mut messages, mut visible)| put(&mut messages, &mut visible, &name, &id, &msg)))
        };
        self.writer.write(work, QueueError::Unavailable).await
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        let max = max.min(MAX_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let this = self.clone();
        let now = self.now_ms();
        let hidden_until = now.saturating_add(i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX));
        let work = move |txn: &WriteTransaction| step(this.receive_in(txn, max, now, hidden_until));
        self.writer.write(work, QueueError::Unavailable).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.delete_many(&[receipt.to_string()]).await
    }

    async fn delete_many(&self, receipts: &[String]) -> Result<(), QueueError> {
        let ids = receipts.iter().map(|r| message_id(r)).collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Ok(());
        }
        let name = self.name.clone();
        let work = move |txn: &WriteTransaction| {
            step(tables(txn).and_then(|(mut messages, mut visible)| {
                for id in &ids {
                    if let Some(msg) = get(&messages, &name, id)? {
                        messages.remove((name.clone(), id.clone())).map_err(store_err)?;
                        visible.remove((name.clone(), msg.visible_at, id.clone())).map_err(store_err)?;
                    }
                }
                Ok(())
            }))
        };
        self.writer.write(work, QueueError::Unavailable).await
    }

    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        let (db, dlq) = (self.db.clone(), self.dlq.clone());
        blocking(
            move || {
                let txn = db.begin_read().map_err(store_err)?;
                let messages = txn.open_table(MESSAGES).map_err(store_err)?;
                let range = (dlq.clone(), String::new())..(format!("{dlq}\0"), String::new());
                let mut count = 0;
                for entry in messages.range(range).map_err(store_err)? {
                    entry.map_err(store_err)?;
                    count += 1;
                }
                Ok(count)
            },
            QueueError::Unavailable,
        )
        .await
    }
}

impl EmbeddedQueue {
    /// Walks due messages oldest first; each is either delivered (hidden
    /// until `hidden_until`) or, once received `MAX_RECEIVES` times, moved to
    /// the dead-letter queue.
    fn receive_in(
        &self,
        txn: &WriteTransaction,
        max: usize,
        now: i64,
        hidden_until: i64,
    ) -> Result<Vec<Message>, QueueError> {
        let (mut messages, mut visible) = tables(txn)?;
        let mut out = Vec::new();
        let mut after = (self.name.clone(), i64::MIN, String::new());
        let end = (self.name.clone(), now, char::MAX.to_string());
        let mut handled = std::collections::HashSet::new();
        while out.len() < max {
            let next = visible.range(after.clone()..=end.clone()).map_err(store_err)?.find_map(|entry| {
                let key = entry.map(|(k, _)| k.value());
                match key {
                    // A message re-hidden with a zero timeout is due again; skip it this call.
                    Ok((_, _, id)) if handled.contains(&id) => None,
                    other => Some(other),
                }
            });
            let Some(entry) = next else { break };
            let (_, visible_at, id) = entry.map_err(store_err)?;
            after = (self.name.clone(), visible_at, format!("{id}\0"));
            handled.insert(id.clone());
            visible.remove((self.name.clone(), visible_at, id.clone())).map_err(store_err)?;
            let Some(mut msg) = get(&messages, &self.name, &id)? else { continue };
            messages.remove((self.name.clone(), id.clone())).map_err(store_err)?;
            if msg.receive_count >= MAX_RECEIVES {
                msg.visible_at = now;
                msg.receipt = None;
                put(&mut messages, &mut visible, &self.dlq, &id, &msg)?;
                continue;
            }
            let receipt = format!("{id}.{}", ulid::Ulid::new());
            msg.receive_count += 1;
            msg.visible_at = hidden_until;
            msg.receipt = Some(receipt.clone());
            put(&mut messages, &mut visible, &self.name, &id, &msg)?;
            out.push(Message { id, receipt, body: msg.body, receive_count: msg.receive_count });
        }
        Ok(out)
    }
}

/// The message id in a receipt `{id}.{nonce}`.
fn message_id(receipt: &str) -> Result<String, QueueError> {
    match receipt.split_once('.') {
        Some((id, nonce)) if !id.is_empty() && !nonce.is_empty() => Ok(id.to_string()),
        _ => Err(QueueError::BadReceipt),
    }
}

type Messages<'t> = Table<'t, (String, String), &'static [u8]>;
type Visible<'t> = Table<'t, (String, i64, String), ()>;

fn tables(txn: &WriteTransaction) -> Result<(Messages<'_>, Visible<'_>), QueueError> {
    Ok((txn.open_table(MESSAGES).map_err(store_err)?, txn.open_table(VISIBLE).map_err(store_err)?))
}

fn get(messages: &Messages, queue: &str, id: &str) -> Result<Option<Stored>, QueueError> {
    let Some(raw) = messages.get((queue.to_string(), id.to_string())).map_err(store_err)? else {
        return Ok(None);
    };
    let msg = serde_json::from_slice(raw.value()).context("corrupt queue message").map_err(QueueError::Unavailable)?;
    Ok(Some(msg))
}

fn put(messages: &mut Messages, visible: &mut Visible, queue: &str, id: &str, msg: &Stored) -> Result<(), QueueError> {
    let bytes = serde_json::to_vec(msg).context("encoding queue message").map_err(QueueError::Unavailable)?;
    messages.insert((queue.to_string(), id.to_string()), bytes.as_slice()).map_err(store_err)?;
    visible.insert((queue.to_string(), msg.visible_at, id.to_string()), ()).map_err(store_err)?;
    Ok(())
}

/// A queue step may have written before failing, so a failure breaks the
/// shared transaction (the batch reruns without it).
fn step<T>(result: Result<T, QueueError>) -> Step<T, QueueError> {
    match result {
        Ok(value) => Step::Answer(Ok(value)),
        Err(e) => Step::Broken(e),
    }
}

fn store_err(e: impl Into<redb::Error>) -> QueueError {
    QueueError::Unavailable(anyhow::Error::new(e.into()))
}

#[cfg(test)]
mod tests {
    /// Ten thousand ids in a tight loop share milliseconds; plain ULIDs
    /// would then sort by their random part, not in the order made.
    #[test]
    fn ids_increase_within_a_millisecond() {
        let ids: Vec<String> = (0..10_000).map(|_| super::next_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids out of order");
    }
}
