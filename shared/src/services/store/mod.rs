//! The typed storage layer between the `Records` port and the use cases.
//! One module per record kind owns its key, its index entries and its
//! attribute names, and hands out typed records and typed writes; business
//! code names no `gsi1pk`, no `Change::Set` and no key format.
//!
//! Conventions for a kind `x`:
//! - `x::key(id)`; the record struct; `x::get(ctx, id)` / `x::load`;
//! - writes are functions returning `Write`s for a `Tx` (`x::put(&rec)`,
//!   `x::set_status(..)`), and the conditions they need (`x::is_status(..)`);
//! - index queries return `Pages` of typed records.

pub mod idempotency;
pub mod limits;
pub mod mails;
pub mod orders;
pub mod outbox;
mod pages;
pub mod receipts;

pub use pages::{Listing, Pages};
