//! One paging stream for record queries and storage listings: the cursor
//! loop written once. `while let Some(page) = pages.next_page().await? { .. }`.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::super::items::from_item;
use super::super::{Ctx, ServiceError};
use crate::ports::{Item, Query};

/// The pages of a query, each item read as a `T`.
pub struct Pages<'a, T = Item> {
    ctx: &'a Ctx,
    query: Query,
    done: bool,
    _t: PhantomData<T>,
}

impl<'a, T: DeserializeOwned> Pages<'a, T> {
    pub fn new(ctx: &'a Ctx, query: Query) -> Self {
        Pages { ctx, query, done: false, _t: PhantomData }
    }

    /// The next page (possibly empty while more follow); `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, ServiceError> {
        if self.done {
            return Ok(None);
        }
        let page = self.ctx.records.query(self.query.clone()).await?;
        self.done = page.next.is_none();
        self.query.cursor = page.next;
        Ok(Some(page.items.into_iter().map(from_item).collect::<Result<_, _>>()?))
    }

    /// Whether the last page was read (nothing more would come).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Every item, for the small sets read whole (a user's entries).
    pub async fn read_all(mut self) -> Result<Vec<T>, ServiceError> {
        let mut out = Vec::new();
        while let Some(page) = self.next_page().await? {
            out.extend(page);
        }
        Ok(out)
    }
}

/// The pages of a storage listing under one prefix, in key order.
pub struct Listing<'a> {
    ctx: &'a Ctx,
    prefix: String,
    after: Option<String>,
    limit: usize,
    done: bool,
}

impl<'a> Listing<'a> {
    pub fn new(ctx: &'a Ctx, prefix: impl Into<String>, limit: usize) -> Self {
        Listing { ctx, prefix: prefix.into(), after: None, limit, done: false }
    }

    /// The next page of keys; `None` after the last.
    pub async fn next_keys(&mut self) -> Result<Option<Vec<String>>, ServiceError> {
        if self.done {
            return Ok(None);
        }
        let page = self.ctx.files.list(&self.prefix, self.after.as_deref(), self.limit).await?;
        self.done = page.next.is_none();
        self.after = page.next;
        Ok(Some(page.keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Index, Key};
    use crate::services::items::to_item;
    use crate::testkit::stack::embedded_ctx;

    #[tokio::test]
    async fn pages_cover_every_item_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = embedded_ctx(dir.path());
        for n in 0..250 {
            let item = to_item(&Key::new("P", format!("{n:04}")), &serde_json::json!({"n": n}), None, None).unwrap();
            ctx.records.put(item, None).await.unwrap();
        }
        let mut pages: Pages<serde_json::Value> = Pages::new(&ctx, Query::new(Index::Table, "P").limit(100));
        let mut seen = Vec::new();
        while let Some(page) = pages.next_page().await.unwrap() {
            assert!(page.len() <= 100);
            seen.extend(page.into_iter().map(|v| v["n"].as_i64().unwrap()));
        }
        assert_eq!(seen, (0..250).collect::<Vec<_>>());
        assert!(pages.next_page().await.unwrap().is_none(), "done stays done");
        let all: Vec<serde_json::Value> =
            Pages::new(&ctx, Query::new(Index::Table, "P").limit(7)).read_all().await.unwrap();
        assert_eq!(all.len(), 250);

        for n in 0..30 {
            ctx.files.put(&format!("unused/f{n:03}.session"), b"x".to_vec(), false).await.unwrap();
        }
        let mut listing = Listing::new(&ctx, "unused/", 8);
        let mut keys = Vec::new();
        while let Some(page) = listing.next_keys().await.unwrap() {
            keys.extend(page);
        }
        assert_eq!(keys.len(), 30);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}
