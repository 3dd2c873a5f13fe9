//! Use cases, written against the ports only (no SDK types, no HTTP).

mod context;
mod error;
pub mod expiry;
pub mod faults;
pub mod items;
pub mod keys;
pub mod model;

pub mod accounts;
pub mod adjust;
pub mod alerts;
pub mod backoff;
pub mod catalog;
pub mod checkout;
pub mod credits;
pub mod dispatch;
pub mod entitlement;
pub mod events;
pub mod fulfil;
pub mod holds;
pub mod hooks;
pub mod invariants;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
pub(crate) mod listed;
pub mod mail;
pub mod me;
pub mod ops;
pub mod orders;
pub mod periods;
pub mod reconcile;
pub mod refunds;
pub mod replacements;
pub mod restock;
pub mod retry;
pub mod revoke;
pub mod schedule;
pub mod seats;
mod sidecars;
pub mod signin;
pub mod staff;
pub mod stock;
mod stock_queue;
#[cfg(test)]
mod stock_queue_tests;
pub mod store;
pub mod subscriptions;
pub mod tx;
pub mod usage;
pub mod webhooks;
pub mod worker;

pub use context::{Ctx, Settings};
pub use error::{Refusal, ServiceError};
pub use faults::Faults;
