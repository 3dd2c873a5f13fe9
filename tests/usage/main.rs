//! Usage metering, quotas, period resets and per-seat billing, over HTTP.

mod helpers;
mod periods;
mod quotas;
mod reports;
mod seats;
