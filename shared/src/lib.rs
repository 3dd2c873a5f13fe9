//! Stockroom's shared library. Dependencies point one way:
//! `domain` (pure) <- `services` (use cases over `ports`) <- `adapters`
//! (embedded, aws) and `http` (request/response glue).

pub mod adapters;
pub mod app;
pub mod config;
pub mod domain;
pub mod http;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod ports;
pub mod providers;
pub mod services;
#[cfg(feature = "testkit")]
pub mod testkit;
