//! The storage moves an adjustment still owes, written in the same commit as
//! its decision and finished (idempotently) by the request, its retry, or
//! reconcile once stale.

use serde::{Deserialize, Serialize};

use super::super::events::{self, Event};
use super::super::store::adjusts;
use super::super::tx::Tx;
use super::super::{Ctx, ServiceError};
use super::Action;
use crate::domain::Timestamp;
use crate::ports::{FileError, Write};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdjustIntent {
    pub id: String,
    /// The file the adjustment is about (the intent's key).
    pub file: String,
    pub action: Action,
    /// (from, to) storage keys; no `to` deletes the object (write off).
    pub moves: Vec<(String, Option<String>)>,
    /// Every file the moves touch (reconcile leaves them alone meanwhile).
    pub files: Vec<String>,
    pub actor: String,
    pub created_at: Timestamp,
    pub done: bool,
    /// An event for the owner, sent once the files are in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Event>,
}

impl AdjustIntent {
    pub fn new(ctx: &Ctx, file: &str, action: Action, moves: Vec<(String, Option<String>)>, actor: &str) -> Self {
        let files = moves.iter().filter_map(|(from, _)| from.rsplit('/').next()).map(str::to_string).collect();
        AdjustIntent {
            id: ctx.ids.next_id(),
            file: file.to_string(),
            action,
            moves,
            files,
            actor: actor.to_string(),
            created_at: ctx.clock.now(),
            done: false,
            notify: None,
        }
    }

    /// The conditional put: a file has at most one adjustment in flight.
    pub fn write(&self) -> Result<Write, ServiceError> {
        adjusts::put(&self.file, self.created_at, self)
    }
}

/// Whether an adjustment of `file` has moves still to do.
pub async fn pending(ctx: &Ctx, file: &str) -> Result<bool, ServiceError> {
    Ok(load(ctx, file).await?.is_some())
}

async fn load(ctx: &Ctx, file: &str) -> Result<Option<AdjustIntent>, ServiceError> {
    let Some(intent) = adjusts::get::<AdjustIntent>(ctx, file).await? else { return Ok(None) };
    Ok((!intent.done).then_some(intent))
}

/// Does the moves of `file`'s unfinished adjustment, if any, and marks it
/// done. Safe to run any number of times, concurrently too.
pub async fn finish(ctx: &Ctx, file: &str) -> Result<(), ServiceError> {
    let Some(intent) = load(ctx, file).await? else { return Ok(()) };
    for (n, (from, to)) in intent.moves.iter().enumerate() {
        let moved = match to {
            Some(to) => ctx.files.move_file(from, to).await,
            None => ctx.files.delete(from).await,
        };
        match moved {
            Ok(()) => {}
            // Neither copy exists: the file vanished; reconcile reports it lost.
            Err(FileError::NotFound(key)) => tracing::error!(%key, "adjusted file is gone from storage"),
            Err(e) => return Err(e.into()),
        }
        if n == 0 {
            ctx.faults.hit("adjust.after_first_move")?;
        }
    }
    ctx.faults.hit("adjust.after_move")?;
    // The owner's event rides with `done`: refused when someone else
    // finished it first (and recorded the event).
    let mut tx = Tx::new();
    tx.push((), adjusts::done(file));
    if let Some(event) = &intent.notify {
        tx.push((), events::record(ctx, event)?);
    }
    if tx.commit(ctx).await?.is_done() {
        tracing::info!(file, action = ?intent.action, actor = %intent.actor, "adjustment finished");
    }
    Ok(())
}
