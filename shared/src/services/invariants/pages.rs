//! Page-at-a-time readers the checker streams through: a storage listing
//! and a location's records index, each in name order.

use std::collections::VecDeque;

use super::super::items::from_item;
use super::super::model::FileRecord;
use super::super::{Ctx, ServiceError, keys};
use super::{InvariantReport, PAGE};
use crate::domain::{FileName, Location};
use crate::ports::{Index, Query};

/// The stock file name of a key under `prefix` (users are not names).
fn name_of(key: &str, prefix: &str, loc: Location) -> Option<String> {
    let rest = key.strip_prefix(prefix).unwrap_or(key);
    let name = match loc {
        Location::Assigned => rest.split_once('/').map(|(_, n)| n).unwrap_or(""),
        _ => rest,
    };
    FileName::parse(name).ok().map(|n| n.as_str().to_string())
}

/// Listing pages of one prefix.
pub(super) struct Listing {
    pub(super) prefix: String,
    pub(super) loc: Location,
    pub(super) buf: VecDeque<(String, String)>,
    pub(super) after: Option<String>,
    pub(super) done: bool,
}

impl Listing {
    pub(super) fn new(loc: Location) -> Self {
        Listing { prefix: format!("{}/", loc.as_str()), loc, buf: VecDeque::new(), after: None, done: false }
    }

    /// The next (name, key), reading a page when the last one is used up.
    pub(super) async fn peek(
        &mut self,
        ctx: &Ctx,
        report: &mut InvariantReport,
    ) -> Result<Option<&(String, String)>, ServiceError> {
        while self.buf.is_empty() && !self.done {
            let page = ctx.files.list(&self.prefix, self.after.as_deref(), PAGE).await?;
            report.files_listed += page.keys.len() as u64;
            for key in page.keys {
                if let Some(name) = name_of(&key, &self.prefix, self.loc) {
                    self.buf.push_back((name, key));
                }
            }
            self.done = page.next.is_none();
            self.after = page.next;
        }
        Ok(self.buf.front())
    }
}

/// Index pages of one location's records.
pub(super) struct Records {
    pub(super) loc: Location,
    pub(super) buf: VecDeque<FileRecord>,
    pub(super) cursor: Option<String>,
    pub(super) done: bool,
}

impl Records {
    pub(super) fn new(loc: Location) -> Self {
        Records { loc, buf: VecDeque::new(), cursor: None, done: false }
    }

    pub(super) async fn peek(&mut self, ctx: &Ctx) -> Result<Option<&FileRecord>, ServiceError> {
        while self.buf.is_empty() && !self.done {
            let q = Query::new(Index::Gsi1, keys::files_at(self.loc.as_str())).limit(PAGE).after(self.cursor.take());
            let page = ctx.records.query(q).await?;
            for item in page.items {
                self.buf.push_back(from_item(item)?);
            }
            self.done = page.next.is_none();
            self.cursor = page.next;
        }
        Ok(self.buf.front())
    }
}
