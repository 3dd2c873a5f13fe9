//! The port conformance suite: one set of behaviour cases that every backend
//! (embedded, AWS) must pass, so they cannot drift apart.
//!
//! Each case takes a fresh, empty store (`&dyn Records`, `&dyn Files`,
//! `&dyn Queue`) and panics on a deviation. The macros expand to one
//! `#[tokio::test]` per case inside a module named after the suite:
//!
//! ```text
//! async fn fresh_records() -> (MyRecords, TempDir) { /* new, empty store */ }
//! shared::records_conformance!(fresh_records());
//! shared::files_conformance!(fresh_files());
//! shared::queue_conformance!(fresh_queue());
//! ```
//!
//! The argument is an expression evaluated afresh in every test; it must be a
//! future of `(store, guard)`, where `store` is a concrete type implementing
//! the port and `guard` is kept alive until the test ends (a `TempDir`, a
//! table to drop, or `()`), or `Option` of that: `None` ends the test early,
//! for a backend that decided to skip (see `Fresh`). The calling crate needs
//! `tokio` (with `macros`).
//! Cases use only the ports and whole-second timeouts, never wall-clock
//! precision, so they hold on SQS/S3/DynamoDB emulators too.

pub mod counted;
pub mod files;
pub mod gated;
pub mod ledger;
pub mod queue;
pub mod receiver;
pub mod records;
pub mod records_query;
pub mod smtp;
pub mod stack;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use serde_json::Value;

use crate::ports::Item;

/// A JSON object as an item. Panics on anything else (test helper).
pub fn item(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("an item must be a JSON object, got {other}"),
    }
}

/// Polls all futures concurrently on the current task (the cases hold
/// borrowed stores, so they cannot spawn).
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// What a factory may return: `(store, guard)`, or `None` to skip the test
/// (an emulator backend that is not configured outside CI).
pub trait Fresh {
    type Store;
    type Guard;
    fn fresh(self) -> Option<(Self::Store, Self::Guard)>;
}

impl<S, G> Fresh for (S, G) {
    type Store = S;
    type Guard = G;
    fn fresh(self) -> Option<(S, G)> {
        Some(self)
    }
}

impl<S, G> Fresh for Option<(S, G)> {
    type Store = S;
    type Guard = G;
    fn fresh(self) -> Option<(S, G)> {
        self
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_suite {
    ($suite:ident, $factory:expr, $port:ident, [$($cases:ident :: $name:ident),* $(,)?]) => {
        mod $suite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let Some((store, _guard)) = $crate::testkit::Fresh::fresh($factory.await) else { return };
                    let store: &dyn $crate::ports::$port = &store;
                    $crate::testkit::$cases::$name(store).await;
                }
            )*
        }
    };
}

/// One `#[tokio::test]` per `Records` case, in `mod records_conformance`.
#[macro_export]
macro_rules! records_conformance {
    ($factory:expr) => {
        $crate::__conformance_suite!(
            records_conformance,
            $factory,
            Records,
            [
                records::put_get_round_trip,
                records::conditional_put_not_exists,
                records::guarded_update_eq_and_ge,
                records::conditions_compose,
                records::add_on_missing_attribute,
                records::update_upserts,
                records::delete_with_condition,
                records::transaction_is_all_or_nothing,
                records::transaction_check_write,
                records::transaction_rejects_same_key_twice,
                records::transaction_rejects_too_many_writes,
                records::invalid_items_are_rejected,
                records::ttl_is_a_number,
                records_query::query_prefix_between_descending,
                records_query::bad_ranges_are_invalid,
                records_query::query_paginates,
                records_query::gsi_query_and_leaving_the_index,
                records_query::gsi_paginates_equal_sort_keys,
                records_query::concurrent_conditional_puts_one_wins,
                records_query::concurrent_adds_sum_exactly,
            ]
        );
    };
}

/// One `#[tokio::test]` per `Files` case, in `mod files_conformance`.
#[macro_export]
macro_rules! files_conformance {
    ($factory:expr) => {
        $crate::__conformance_suite!(
            files_conformance,
            $factory,
            Files,
            [
                files::put_head_round_trip,
                files::put_if_absent_refuses_existing,
                files::list_paginates_2500_keys,
                files::list_spans_user_prefixes,
                files::move_is_idempotent,
                files::delete_missing_is_ok,
            ]
        );
    };
}

/// One `#[tokio::test]` per `Queue` case, in `mod queue_conformance`.
#[macro_export]
macro_rules! queue_conformance {
    ($factory:expr) => {
        $crate::__conformance_suite!(
            queue_conformance,
            $factory,
            Queue,
            [
                queue::send_receive_delete,
                queue::delete_many_deletes_each,
                queue::receive_respects_max,
                queue::invisible_until_timeout,
                queue::redrive_after_max_receives,
            ]
        );
    };
}
