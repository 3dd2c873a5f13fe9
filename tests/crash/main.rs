//! Crashes at every named step boundary, webhook storms and poison
//! messages: after retries, redelivery and reconcile no file is lost or
//! doubled, and orders, subscriptions and credits end where they should.

mod assign;
mod books;
mod credits;
mod points;
mod poison;
mod refund;
mod revoke;
mod storm;
