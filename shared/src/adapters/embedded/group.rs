//! Group commit: write requests that arrive while a commit is in flight are
//! applied together in one redb write transaction with one durable commit.
//!
//! Requests queue in arrival order; whoever finds no leader becomes one on
//! the blocking pool and drains the queue in batches of at most `MAX_BATCH`.
//! Each request runs against the state the earlier ones left, and must either
//! write nothing or answer `Step::Answer`; a request that fails after maybe
//! writing (`Step::Broken`) is answered alone and the batch reruns without
//! it. Answers go out only after the commit, so nobody hears "ok" (or a
//! condition failure that depends on a neighbour's write) before it is durable.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use redb::{Database, WriteTransaction};
use tokio::sync::oneshot;

/// Bounds a batch so one commit cannot grow without limit.
const MAX_BATCH: usize = 64;

/// What one request did in the batch's transaction.
pub(super) enum Step<T, E> {
    /// The answer: a success, or a refusal that wrote nothing.
    Answer(Result<T, E>),
    /// Failed after perhaps writing: the transaction must be discarded.
    Broken(E),
}

/// A queued request with its answer channel, type-erased.
trait Request: Send {
    /// Runs the request in `txn`; false when it broke the transaction.
    fn run(&mut self, txn: &WriteTransaction) -> bool;
    /// Sends the staged answer, or `failed` (the batch did not commit).
    fn answer(self: Box<Self>, failed: Option<&str>);
}

struct Job<T, E, W> {
    work: W,
    staged: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
    lost: fn(anyhow::Error) -> E,
}

impl<T, E, W> Request for Job<T, E, W>
where
    T: Send,
    E: Send,
    W: FnMut(&WriteTransaction) -> Step<T, E> + Send,
{
    fn run(&mut self, txn: &WriteTransaction) -> bool {
        let step = catch_unwind(AssertUnwindSafe(|| (self.work)(txn)))
            .unwrap_or_else(|_| Step::Broken((self.lost)(anyhow::anyhow!("embedded write request panicked"))));
        let (staged, ok) = match step {
            Step::Answer(result) => (result, true),
            Step::Broken(e) => (Err(e), false),
        };
        self.staged = Some(staged);
        ok
    }

    fn answer(self: Box<Self>, failed: Option<&str>) {
        let result = match (failed, self.staged) {
            (None, Some(staged)) => staged,
            (Some(why), _) => Err((self.lost)(anyhow::anyhow!("embedded commit failed: {why}"))),
            (None, None) => Err((self.lost)(anyhow::anyhow!("embedded write request never ran"))),
        };
        // The caller may have gone away; its request was still applied.
        let _ = self.reply.send(result);
    }
}

#[derive(Default)]
struct Pending {
    queue: VecDeque<Box<dyn Request>>,
    leading: bool,
}

/// The write path of one database, shared by its records and queues.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    db: Arc<Database>,
    pending: Arc<Mutex<Pending>>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("queued", &self.queue.len()).field("leading", &self.leading).finish()
    }
}

impl Writer {
    pub(super) fn new(db: Arc<Database>) -> Self {
        Writer { db, pending: Arc::default() }
    }

    pub(super) fn database(&self) -> Arc<Database> {
        self.db.clone()
    }

    /// Runs `work` in a shared write transaction; answers once it committed.
    /// `work` may run more than once (a neighbour broke the batch), each
    /// time in a fresh transaction.
    pub(super) async fn write<T, E, W>(&self, work: W, lost: fn(anyhow::Error) -> E) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
        W: FnMut(&WriteTransaction) -> Step<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.queue.push_back(Box::new(Job { work, staged: None, reply, lost }));
            !std::mem::replace(&mut pending.leading, true)
        };
        if lead {
            let mut leader = Leader { db: Arc::downgrade(&self.db), pending: self.pending.clone(), done: false };
            tokio::task::spawn_blocking(move || leader.drain());
        }
        match answer.await {
            Ok(result) => result,
            Err(_) => Err(lost(anyhow::anyhow!("embedded write task failed"))),
        }
    }
}

/// The task draining the queue. Holds the database weakly between batches
/// so that once the last answer is out, the file can be reopened.
struct Leader {
    db: Weak<Database>,
    pending: Arc<Mutex<Pending>>,
    done: bool,
}

impl Leader {
    fn drain(&mut self) {
        loop {
            let batch: Vec<_> = {
                let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                let n = pending.queue.len().min(MAX_BATCH);
                if n == 0 {
                    pending.leading = false;
                    self.done = true;
                    return;
                }
                pending.queue.drain(..n).collect()
            };
            let (batch, failed) = match self.db.upgrade() {
                Some(db) => commit_batch(&db, batch),
                None => (batch, Some("database closed".to_string())),
            };
            for request in batch {
                request.answer(failed.as_deref());
            }
        }
    }
}

impl Drop for Leader {
    /// A leader that dies (panic) or never ran (runtime shutdown) must not
    /// leave the queue marked as led: the next request starts a new leader.
    fn drop(&mut self) {
        if !self.done {
            self.pending.lock().unwrap_or_else(PoisonError::into_inner).leading = false;
        }
    }
}

/// Runs the batch in one transaction and commits it, dropping (and
/// answering) requests that broke it; returns the requests left and why the
/// commit failed, if it did.
fn commit_batch(db: &Database, mut batch: Vec<Box<dyn Request>>) -> (Vec<Box<dyn Request>>, Option<String>) {
    'attempt: loop {
        let txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(e) => return (batch, Some(e.to_string())),
        };
        for i in 0..batch.len() {
            if !batch[i].run(&txn) {
                if let Err(e) = txn.abort() {
                    return (batch, Some(e.to_string()));
                }
                batch.remove(i).answer(None);
                continue 'attempt;
            }
        }
        let failed = txn.commit().err().map(|e| e.to_string());
        return (batch, failed);
    }
}
