//! Usage metering: the bot engine reports use per subscription; each report
//! is counted once (its key is written in the same transaction as the
//! counter), into the subscription's current 30-day period.

mod report;
mod reset;
mod view;

pub use super::periods::PeriodRecord;
pub use report::{ReportRequest, UsageError, UsageReceipt, record};
pub use reset::{ResetReport, reset_due};
pub use view::{MetricUsage, UsageHistory, UsageStatus, UsageView, history, view};
