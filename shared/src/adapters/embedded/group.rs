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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

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
    load: Arc<Load>,
}

/// What the one writer has done since the database opened: the benchmarks
/// read it to say whether the writer is what bounds them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WriterLoad {
    /// redb write transactions committed (each one durable commit).
    pub commits: u64,
    /// Write requests (record writes, queue sends, receives and deletes)
    /// those commits carried.
    pub requests: u64,
    /// Time a leader spent on batches, from opening the transaction to
    /// the commit's end.
    pub busy: Duration,
    /// The part of `busy` spent in redb's durable commit.
    pub committing: Duration,
}

#[derive(Debug, Default)]
struct Load {
    commits: AtomicU64,
    requests: AtomicU64,
    busy_nanos: AtomicU64,
    committing_nanos: AtomicU64,
}

impl Load {
    fn add(&self, requests: usize, busy: Duration, committing: Duration) {
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(requests as u64, Ordering::Relaxed);
        self.busy_nanos.fetch_add(nanos(busy), Ordering::Relaxed);
        self.committing_nanos.fetch_add(nanos(committing), Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("queued", &self.queue.len()).field("leading", &self.leading).finish()
    }
}

impl Writer {
    pub(super) fn new(db: Arc<Database>) -> Self {
        Writer { db, pending: Arc::default(), load: Arc::default() }
    }

    pub(super) fn load(&self) -> WriterLoad {
        let l = &self.load;
        WriterLoad {
            commits: l.commits.load(Ordering::Relaxed),
            requests: l.requests.load(Ordering::Relaxed),
            busy: Duration::from_nanos(l.busy_nanos.load(Ordering::Relaxed)),
            committing: Duration::from_nanos(l.committing_nanos.load(Ordering::Relaxed)),
        }
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
            let mut leader = Leader {
                db: Arc::downgrade(&self.db),
                pending: self.pending.clone(),
                load: self.load.clone(),
                done: false,
            };
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
    load: Arc<Load>,
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
            let started = Instant::now();
            let (batch, failed) = match self.db.upgrade() {
                Some(db) => commit_batch(&db, batch),
                None => (batch, Err("database closed".to_string())),
            };
            let failed = match failed {
                Ok(committing) => {
                    self.load.add(batch.len(), started.elapsed(), committing);
                    None
                }
                Err(why) => Some(why),
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

/// The requests left in a batch, and how long its commit took or why it
/// failed.
type Committed = (Vec<Box<dyn Request>>, Result<Duration, String>);

/// Runs the batch in one transaction and commits it, dropping (and
/// answering) requests that broke it.
fn commit_batch(db: &Database, mut batch: Vec<Box<dyn Request>>) -> Committed {
    'attempt: loop {
        let txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(e) => return (batch, Err(e.to_string())),
        };
        for i in 0..batch.len() {
            if !batch[i].run(&txn) {
                if let Err(e) = txn.abort() {
                    return (batch, Err(e.to_string()));
                }
                batch.remove(i).answer(None);
                continue 'attempt;
            }
        }
        let started = Instant::now();
        let result = txn.commit().map(|()| started.elapsed()).map_err(|e| e.to_string());
        return (batch, result);
    }
}
