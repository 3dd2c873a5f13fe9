//! `Files` on one S3 bucket. A move is CopyObject then DeleteObject; each step
//! is safe to repeat, so a retried move finishes what a crashed one began.

mod bucket;
mod keys;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;

pub use bucket::create_bucket_if_missing;

use self::keys::{check_key, copy_source};
use super::metrics::RequestCounter;
use crate::ports::files::{FileError, FileMeta, FilePage, Files};

/// S3 answers at most this many keys per ListObjectsV2.
const MAX_KEYS_PER_LIST: usize = 1000;

#[derive(Clone, Debug)]
pub struct S3Files {
    client: Client,
    bucket: String,
    counter: RequestCounter,
}

impl S3Files {
    pub fn new(client: Client, bucket: impl Into<String>, counter: RequestCounter) -> Self {
        Self { client, bucket: bucket.into(), counter }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn unavailable<E, R>(op: &str, err: SdkError<E, R>) -> FileError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    FileError::Unavailable(anyhow::anyhow!("{op}: {}", DisplayErrorContext(&err)))
}

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

#[async_trait]
impl Files for S3Files {
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        if limit == 0 {
            // Nothing fits; the caller may go on from where it was.
            return Ok(FilePage { keys: Vec::new(), next: Some(start_after.unwrap_or_default().to_string()) });
        }
        let mut keys: Vec<String> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let want = (limit - keys.len()).min(MAX_KEYS_PER_LIST);
            let req = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .set_prefix((!prefix.is_empty()).then(|| prefix.to_string()))
                .set_start_after(start_after.filter(|s| !s.is_empty() && token.is_none()).map(str::to_string))
                .set_continuation_token(token.take())
                .max_keys(i32::try_from(want).unwrap_or(i32::MAX));
            let out =
                self.counter.call("s3.ListObjectsV2", req.send()).await.map_err(|e| unavailable("ListObjectsV2", e))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key()).map(str::to_string));
            if !out.is_truncated().unwrap_or(false) {
                return Ok(FilePage { keys, next: None });
            }
            token = out.next_continuation_token;
            if keys.len() >= limit || token.is_none() {
                let next = keys.last().cloned().or_else(|| start_after.map(str::to_string));
                return Ok(FilePage { keys, next });
            }
        }
    }

    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        check_key(from)?;
        check_key(to)?;
        if from == to {
            return match self.head(from).await? {
                Some(_) => Ok(()),
                None => Err(FileError::NotFound(from.to_string())),
            };
        }
        let req = self.client.copy_object().bucket(&self.bucket).key(to).copy_source(copy_source(&self.bucket, from));
        match self.counter.call("s3.CopyObject", req.send()).await {
            Ok(_) => {}
            // The source is gone: an earlier attempt finished if `to` exists.
            Err(e) if e.code() == Some("NoSuchKey") => {
                return match self.head(to).await? {
                    Some(_) => Ok(()),
                    None => Err(FileError::NotFound(from.to_string())),
                };
            }
            Err(e) => return Err(unavailable("CopyObject", e)),
        }
        self.delete(from).await
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError> {
        check_key(key)?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .set_if_none_match(if_absent.then(|| "*".to_string()));
        match self.counter.call("s3.PutObject", req.send()).await {
            Ok(_) => Ok(()),
            // Unmodelled in the SDK: match the code (and the status, to be sure).
            Err(e) if e.code() == Some("PreconditionFailed") || status(&e) == Some(412) => {
                Err(FileError::Exists(key.to_string()))
            }
            Err(e) => Err(unavailable("PutObject", e)),
        }
    }

    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError> {
        check_key(key)?;
        let req = self.client.head_object().bucket(&self.bucket).key(key);
        match self.counter.call("s3.HeadObject", req.send()).await {
            Ok(out) => {
                let size = out.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
                Ok(Some(FileMeta { key: key.to_string(), size }))
            }
            Err(e) if matches!(e.as_service_error(), Some(HeadObjectError::NotFound(_))) || status(&e) == Some(404) => {
                Ok(None)
            }
            Err(e) => Err(unavailable("HeadObject", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        check_key(key)?;
        let req = self.client.delete_object().bucket(&self.bucket).key(key);
        match self.counter.call("s3.DeleteObject", req.send()).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("NoSuchKey") => Ok(()),
            Err(e) => Err(unavailable("DeleteObject", e)),
        }
    }
}
