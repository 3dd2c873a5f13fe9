//! What staff look up: orders found by status, email or date, one order
//! with everything recorded about it, and stock analytics. Reads only;
//! the actions they lead to live in their own use cases.

pub mod analytics;
pub mod detail;
pub mod orders;

#[cfg(test)]
mod detail_tests;
