//! Mails as `.eml` files under `{data}/mail/`, one per mail, named by time:
//! what a local stack without SMTP "sends", for a person to open.

use std::path::PathBuf;

use async_trait::async_trait;
use lettre::message::Mailbox;

use super::message::build;
use crate::domain::Timestamp;
use crate::ports::{Mail, MailError, Mailer};

#[derive(Clone, Debug)]
pub struct FilesMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FilesMailer {
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<Self, String> {
        Ok(FilesMailer { dir: dir.into(), from: super::parse_from(from)? })
    }
}

#[async_trait]
impl Mailer for FilesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let bytes = build(&self.from, mail)?.formatted();
        let name = format!("{}-{}.eml", Timestamp::system_now().sort_key(), ulid::Ulid::new());
        let dir = self.dir.clone();
        // Written aside and renamed, so a reader never sees half a mail.
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<PathBuf> {
            std::fs::create_dir_all(&dir)?;
            let part = dir.join(format!(".{name}.part"));
            std::fs::write(&part, &bytes)?;
            let path = dir.join(name);
            std::fs::rename(&part, &path)?;
            Ok(path)
        })
        .await
        .map_err(|e| MailError::Transient(format!("writing the mail: {e}")))?;
        match written {
            Ok(path) => {
                tracing::info!(path = %path.display(), to = ?mail.to, subject = %mail.subject, "mail written");
                Ok(())
            }
            Err(e) => Err(MailError::Transient(format!("writing the mail under {}: {e}", self.dir.display()))),
        }
    }
}
