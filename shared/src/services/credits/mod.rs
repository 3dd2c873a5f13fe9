//! Loyalty credits as a two-phase ledger (invariant 8): see
//! `domain::credits` for the rules. Every entry is written in the same
//! transaction as the change of the account's sums; a transfer's state is the
//! condition that makes each post, void and reversal happen once.

mod gifts;
mod job;
mod ledger;
mod purchases;
mod records;
mod spend;
mod view;

pub use gifts::{GiftBody, GiftDeactivated, GiftReceipt, MAX_GIFT, deactivate as deactivate_gift, gift};
pub use job::{PostReport, post_due};
pub use ledger::Outcome;
pub use purchases::{DeactivateReport, deactivate as deactivate_order, earn_id, earn_writes, on_refund, refund_writes};
pub use records::{AccountRecord, EntryRecord, TransferRecord};
pub use spend::{LateCharge, account, after_payment, late_writes, opening_writes, settle_order, spend_id};
pub use view::{Audit, CreditsView, EntryView, audit, entries, view};
