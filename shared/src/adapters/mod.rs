//! Backends behind the ports.

#[cfg(feature = "aws")]
pub mod aws;
pub mod embedded;
pub mod live;
pub mod mail;
pub mod outbound;
pub mod sandbox;
pub mod token;
