//! The staff side over HTTP: ledger, adjustments, subscription deletion and
//! the role table, each on a fresh stack.

mod accounts;
mod adjust;
mod analytics;
mod bootstrap;
mod catalog;
mod crash;
mod delete;
mod helpers;
mod ledger;
mod orders;
mod replay;
mod roles;
mod second_factor;
