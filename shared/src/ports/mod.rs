//! Ports: the small async traits the services are written against. One adapter
//! per backend implements each (embedded: redb + a directory tree; aws: DynamoDB,
//! S3, SQS). The conformance suite in `crate::testkit` holds them to one meaning.

pub mod clock;
pub mod files;
pub mod mail;
pub mod outbound;
pub mod payments;
pub mod queue;
pub mod records;

pub use clock::{Clock, IdGen};
pub use files::{FileError, FileMeta, FilePage, Files};
pub use mail::{Mail, MailError, Mailer, NullMailer};
pub use outbound::{Answer, Outgoing, SendError, WebhookSender};
pub use payments::{Invoice, InvoiceRequest, PaymentGateway, ProviderError, RefundMade};
pub use queue::{Message, Queue, QueueError};
pub use records::{Change, Cond, Index, Item, Key, Page, Query, RecordError, Records, SkRange, Write};
