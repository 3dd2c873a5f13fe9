//! A location's storage listing and its records index (`FILES#{location}`)
//! are both sorted by file name, so one walk takes them side by side a page
//! at a time: a file both list, one only storage lists, or one only the
//! records list. Reconcile repairs from it; the invariant checker judges it.

use std::collections::VecDeque;

use super::files::{self, FileRecord};
use super::{Listing, Pages};
use crate::domain::Location;
use crate::services::listed::{self, Listed, judge_page};
use crate::services::{Ctx, ServiceError};

/// How listed keys are judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judge {
    /// Stock or not, on the key alone (journals are passed over unjudged).
    Quick,
    /// As `listed::judge_page`: a journal with no session file beside it is
    /// rejected, which may cost a head.
    Full,
}

/// One stock key: its owner under assigned/, its name and the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockKey {
    pub user: Option<String>,
    pub name: String,
    pub key: String,
}

/// The stock keys of one prefix, page by page. Counts what it listed and
/// keeps what it rejected, for the caller to take.
pub struct Stock<'a> {
    ctx: &'a Ctx,
    listing: Listing<'a>,
    judge: Judge,
    buf: VecDeque<StockKey>,
    /// Keys listed since last taken.
    pub listed: u64,
    /// (key, why) of keys that are not stock, since last taken.
    pub rejected: Vec<(String, String)>,
}

impl<'a> Stock<'a> {
    pub fn new(ctx: &'a Ctx, prefix: &str, page: usize, judge: Judge) -> Self {
        let listing = Listing::new(ctx, prefix, page);
        Stock { ctx, listing, judge, buf: VecDeque::new(), listed: 0, rejected: Vec::new() }
    }

    /// The stock keys of the next listing page (possibly none while more
    /// follow); `None` after the last.
    pub async fn read_page(&mut self) -> Result<Option<Vec<StockKey>>, ServiceError> {
        let Some(keys) = self.listing.next_keys().await? else { return Ok(None) };
        self.listed += keys.len() as u64;
        let mut out = Vec::with_capacity(keys.len());
        match self.judge {
            Judge::Quick => {
                for key in keys {
                    if let Some((user, name)) = listed::stock(self.ctx, &key) {
                        out.push(StockKey { user, name, key });
                    }
                }
            }
            Judge::Full => {
                let judged = judge_page(self.ctx, &keys).await?;
                for (key, judged) in keys.into_iter().zip(judged) {
                    match judged {
                        Listed::Stock { user, name } => out.push(StockKey { user, name, key }),
                        Listed::Sidecar => {}
                        Listed::Rejected(why) => self.rejected.push((key, why)),
                    }
                }
            }
        }
        Ok(Some(out))
    }

    /// The next stock key without taking it.
    pub async fn peek_key(&mut self) -> Result<Option<&StockKey>, ServiceError> {
        while self.buf.is_empty() {
            match self.read_page().await? {
                Some(page) => self.buf.extend(page),
                None => break,
            }
        }
        Ok(self.buf.front())
    }

    pub async fn next_key(&mut self) -> Result<Option<StockKey>, ServiceError> {
        self.peek_key().await?;
        Ok(self.buf.pop_front())
    }
}

/// One step of the walk.
#[derive(Debug)]
pub enum Merged {
    /// Listed at this location and in its index (the record, as indexed).
    Both {
        key: String,
        rec: FileRecord,
    },
    ListedOnly(StockKey),
    RecordOnly(FileRecord),
}

/// The walk over one of unused/, banned/ or frozen/.
pub struct Merge<'a> {
    pub stock: Stock<'a>,
    records: Pages<'a, FileRecord>,
    buf: VecDeque<FileRecord>,
}

impl<'a> Merge<'a> {
    pub fn new(ctx: &'a Ctx, loc: Location, page: usize, judge: Judge) -> Self {
        let stock = Stock::new(ctx, &format!("{}/", loc.as_str()), page, judge);
        Merge { stock, records: files::at(ctx, loc, page), buf: VecDeque::new() }
    }

    async fn peek_record(&mut self) -> Result<Option<&FileRecord>, ServiceError> {
        while self.buf.is_empty() {
            match self.records.next_page().await? {
                Some(page) => self.buf.extend(page),
                None => break,
            }
        }
        Ok(self.buf.front())
    }

    /// The next step, in name order; `None` when both sides are done.
    pub async fn next_merged(&mut self) -> Result<Option<Merged>, ServiceError> {
        let listed = self.stock.peek_key().await?.map(|s| s.name.clone());
        let recorded = self.peek_record().await?.map(|r| r.name.clone());
        let step = match (listed, recorded) {
            (None, None) => return Ok(None),
            (Some(f), Some(r)) if f == r => {
                let (Some(s), Some(rec)) = (self.stock.buf.pop_front(), self.buf.pop_front()) else { return Ok(None) };
                Merged::Both { key: s.key, rec }
            }
            (Some(f), r) if r.as_ref().is_none_or(|r| f < *r) => match self.stock.buf.pop_front() {
                Some(s) => Merged::ListedOnly(s),
                None => return Ok(None),
            },
            _ => match self.buf.pop_front() {
                Some(rec) => Merged::RecordOnly(rec),
                None => return Ok(None),
            },
        };
        Ok(Some(step))
    }
}
