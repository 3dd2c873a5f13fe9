//! One purchase end to end, over HTTP, on a fresh stack per test.

mod addons;
mod bad_input;
mod checkout;
mod doubt;
mod durability;
mod happy;
mod lifecycle;
mod limits;
mod own_payment;
mod reconcile;
mod refunds;
mod refunds_files;
mod refunds_later;
mod webhooks;
