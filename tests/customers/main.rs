//! Buyers' identity (issue 17): sign-in by email link (single use, lapse,
//! forgery, rate limits), `/me` for the signed-in buyer only, checkout
//! acting for a buyer on the session alone, and replacements of bad files.
//! Backend-neutral: the links are read out of the mails the stack writes
//! under `{data}/mail/`.

mod acting;
mod me;
mod reminders;
mod replacements;
mod signin;
