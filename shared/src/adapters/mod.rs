//! Backends behind the ports.

pub mod embedded;
