//! Mail adapters: SMTP (lettre), Amazon SES (with the `aws` feature), and
//! `.eml` files under the data directory for a stack with neither.

mod files;
mod message;
#[cfg(feature = "aws")]
mod ses;
mod smtp;

pub use files::FilesMailer;
pub use message::{build, parse_from};
#[cfg(feature = "aws")]
pub use ses::SesMailer;
pub use smtp::SmtpMailer;
