//! The stock commits of one process, grouped. Every stock commit writes the
//! counters item under its version, so one process commits them one at a
//! time (else its own requests would spin on the version). Those that come
//! while one is being committed wait, and the next turn takes all of them
//! into one transaction: in order, each checked and booked against the
//! counts the ones before it leave, each still its own version with its own
//! ledger entries, and one counters write at the end guarded by the version
//! read. So a busy process pays one durable commit for many stock changes.
//!
//! Members never share an item (DynamoDB refuses two writes to one item in a
//! transaction, and two conditions on one item would both be judged on the
//! state before it), and a group stays within DynamoDB's 100 items. A member
//! whose own write fails its condition is refused alone and the rest go
//! again; any other failure of a group sends its members again one by one,
//! so a bad request fails only itself.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::retry::{Tries, pause};
use super::stock::{StockEntry, book};
use super::store::stock::{self as counters, CountsRecord};
use super::{Ctx, ServiceError, items};
use crate::domain::StockCounts;
use crate::ports::clock::Clock;
use crate::ports::records::MAX_TRANSACTION_ITEMS;
use crate::ports::{Key, RecordError, Records, Write};

pub(crate) type Check = Box<dyn Fn(&StockCounts) -> Result<(), ServiceError> + Send + Sync>;

/// What became of one stock commit: done, or refused by the condition of
/// the caller's write at this index.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Done,
    Refused(usize),
}

type Reply = oneshot::Sender<Result<Answer, ServiceError>>;

struct Request {
    id: u64,
    writes: Vec<Write>,
    entries: Vec<StockEntry>,
    check: Option<Check>,
    keys: Vec<Key>,
    /// Rounds lost to a change of the counters by someone else.
    tries: Tries,
    /// Goes in a group of its own (its group failed for another reason).
    alone: bool,
    reply: Reply,
}

impl Request {
    fn answer(self, a: Result<Answer, ServiceError>) {
        // The caller may have gone; the commit stands either way.
        let _ = self.reply.send(a);
    }

    fn items(&self) -> usize {
        self.writes.len() + self.entries.len()
    }
}

#[derive(Default)]
pub(crate) struct StockQueue {
    pending: Mutex<Vec<Request>>,
    turn: Arc<tokio::sync::Mutex<()>>,
    ids: AtomicU64,
}

/// Takes a caller's request back out of the queue if the caller goes away
/// before a turn took it (a dropped request future): like a request never
/// sent, it is then never committed.
struct Waiting<'q> {
    queue: &'q StockQueue,
    id: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.queue.pending.lock() {
            pending.retain(|r| r.id != self.id);
        }
    }
}

impl StockQueue {
    pub(crate) async fn commit(
        &self,
        ctx: &Ctx,
        writes: Vec<Write>,
        entries: Vec<StockEntry>,
        check: Option<Check>,
    ) -> Result<Answer, ServiceError> {
        let keys = writes.iter().map(write_key).collect::<Result<Vec<_>, _>>()?;
        let (reply, mut answer) = oneshot::channel();
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        self.pending()?.push(Request { id, writes, entries, check, keys, tries: Tries::start(), alone: false, reply });
        let waiting = Waiting { queue: self, id };
        let turn = self.turn.clone().lock_owned().await;
        // Ours now: taken by the turn before, or ours to take.
        std::mem::forget(waiting);
        // The turn before this one took it with the others.
        if let Ok(done) = answer.try_recv() {
            return done;
        }
        let queue = std::mem::take(&mut *self.pending()?);
        let leader = Leader { records: ctx.records.clone(), clock: ctx.clock.clone() };
        // Its own task: a caller that goes away must not strand the others.
        tokio::spawn(async move {
            leader.run(queue).await;
            drop(turn);
        });
        answer.await.unwrap_or_else(|_| Err(ServiceError::internal(anyhow::anyhow!("a stock commit was dropped"))))
    }

    fn pending(&self) -> Result<std::sync::MutexGuard<'_, Vec<Request>>, ServiceError> {
        self.pending.lock().map_err(|_| ServiceError::internal(anyhow::anyhow!("stock queue poisoned")))
    }
}

fn write_key(w: &Write) -> Result<Key, ServiceError> {
    match w {
        Write::Put { item, .. } => {
            Key::of(item).ok_or_else(|| ServiceError::internal(anyhow::anyhow!("a put with no key")))
        }
        Write::Update { key, .. } | Write::Delete { key, .. } | Write::Check { key, .. } => Ok(key.clone()),
    }
}

struct Leader {
    records: Arc<dyn Records>,
    clock: Arc<dyn Clock>,
}

impl Leader {
    async fn run(&self, mut queue: Vec<Request>) {
        while !queue.is_empty() {
            let (group, rest) = take_group(queue);
            let mut again = self.commit_group(group).await;
            again.extend(rest);
            queue = again;
        }
    }

    /// Commits one group; returns the members that go again.
    async fn commit_group(&self, group: Vec<Request>) -> Vec<Request> {
        let current = match self.records.get(&counters::counts_key()).await {
            Ok(item) => item.map(items::from_item::<CountsRecord>).transpose(),
            Err(e) => Err(e),
        };
        let current = match current {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => return failed(group, e),
        };
        if current.version == 0 {
            super::store::ledger_index::begun_indexed(self.records.as_ref()).await;
        }
        let (now, mut counts) = (self.clock.now(), current.clone());
        let (mut all, mut members) = (Vec::new(), Vec::with_capacity(group.len()));
        // Refused by their check on counts that members before them changed:
        // answered only if those changes commit, else they go again.
        let mut short = Vec::new();
        for req in group {
            if let Some(check) = &req.check
                && let Err(e) = check(&counts.counts)
            {
                short.push((req, e));
                continue;
            }
            let start = all.len();
            all.extend(req.writes.iter().cloned());
            if !req.entries.is_empty() {
                counts = match book(&mut all, &req.entries, &counts, now) {
                    Ok(c) => c,
                    Err(e) => {
                        all.truncate(start);
                        req.answer(Err(e));
                        continue;
                    }
                };
            }
            members.push((start, req));
        }
        if members.is_empty() {
            short.into_iter().for_each(|(m, e)| m.answer(Err(e)));
            return Vec::new();
        }
        // No stock change (an extension holds no files): no new version.
        if counts.version != current.version {
            all.push(counters::set_counts(&counts.counts, counts.version, current.version));
        }
        let Err(e) = self.records.transact(all).await else {
            short.into_iter().for_each(|(m, e)| m.answer(Err(e)));
            members.into_iter().for_each(|(_, m)| m.answer(Ok(Answer::Done)));
            return Vec::new();
        };
        let mut again: Vec<Request> = short.into_iter().map(|(m, _)| m).collect();
        again.extend(not_committed(e, members).await);
        again
    }
}

/// The members of a group whose transaction failed that go again.
async fn not_committed(e: RecordError, mut members: Vec<(usize, Request)>) -> Vec<Request> {
    match e {
        RecordError::ConditionFailed { index, .. } => {
            let own = members.iter().position(|(start, m)| index >= *start && index < start + m.writes.len());
            let Some(i) = own else {
                // A ledger line or the counters: they moved meanwhile.
                return contended(members).await;
            };
            let (start, m) = members.remove(i);
            m.answer(Ok(Answer::Refused(index - start)));
            members.into_iter().map(|(_, m)| m).collect()
        }
        RecordError::Conflict => contended(members).await,
        e => failed(members.into_iter().map(|(_, m)| m).collect(), e),
    }
}

/// The first requests, in order, that share no item and fit one transaction.
fn take_group(queue: Vec<Request>) -> (Vec<Request>, Vec<Request>) {
    let (mut group, mut rest) = (Vec::new(), Vec::new());
    let (mut keys, mut items) = (HashSet::new(), 1);
    for req in queue {
        let fits = group.is_empty() || (!req.alone && items + req.items() <= MAX_TRANSACTION_ITEMS);
        let alone_group = group.first().is_some_and(|g: &Request| g.alone);
        if fits && !alone_group && req.keys.iter().all(|k| !keys.contains(k)) {
            items += req.items();
            keys.extend(req.keys.iter().cloned());
            group.push(req);
        } else {
            rest.push(req);
        }
    }
    (group, rest)
}

/// Someone else moved the counters: the group goes again after a pause,
/// except members out of tries, which get the 409 the retry loop gives.
async fn contended(members: Vec<(usize, Request)>) -> Vec<Request> {
    let mut again = Vec::with_capacity(members.len());
    let mut most = 0;
    for (_, mut m) in members {
        if m.tries.lose() {
            most = most.max(m.tries.lost());
            again.push(m);
        } else {
            m.answer(Err(ServiceError::Conflict("the stock counters kept changing; try again".into())));
        }
    }
    if !again.is_empty() {
        pause(most - 1).await;
    }
    again
}

/// A failure that is not a condition: alone, the member gets it; in a group,
/// each goes again on its own, so only the one at fault fails.
fn failed(group: Vec<Request>, e: RecordError) -> Vec<Request> {
    if group.len() == 1 {
        if let Some(m) = group.into_iter().next() {
            m.answer(Err(e.into()));
        }
        return Vec::new();
    }
    group.into_iter().map(|m| Request { alone: true, ..m }).collect()
}
