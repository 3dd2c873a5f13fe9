//! The `stockroom` binary run for real against a local stack on a random
//! port (embedded backend, its own data directory per test).

mod commands;
mod errors;
mod helpers;
mod ledger;
mod upload;
