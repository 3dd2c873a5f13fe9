//! Page-at-a-time readers the checker streams through: a storage listing
//! and a location's records index, each in name order.

use std::collections::VecDeque;

use super::super::items::from_item;
use super::super::listed;
use super::super::model::FileRecord;
use super::super::{Ctx, ServiceError, keys};
use super::{InvariantReport, PAGE};
use crate::domain::Location;
use crate::ports::{Index, Query};

/// Listing pages of one prefix.
pub(super) struct Listing {
    pub(super) prefix: String,
    pub(super) buf: VecDeque<(String, String)>,
    pub(super) after: Option<String>,
    pub(super) done: bool,
}

impl Listing {
    pub(super) fn new(loc: Location) -> Self {
        Listing { prefix: format!("{}/", loc.as_str()), buf: VecDeque::new(), after: None, done: false }
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
                // Only stock: journals and junk beside it are not the checker's.
                if let Some((_, name)) = listed::stock(ctx, &key) {
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
