//! What staff ask for (`POST /admin/stock/adjust`) and what each file gets.

use serde::{Deserialize, Serialize};

use super::MAX_FILES;
use crate::domain::{FileName, LedgerKind};
use crate::services::ServiceError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AdjustAction)]
pub enum Action {
    Ban,
    Freeze,
    Unfreeze,
    WriteOff,
}

impl Action {
    pub(super) fn kind(self) -> LedgerKind {
        match self {
            Action::Ban => LedgerKind::Ban,
            Action::Freeze => LedgerKind::Freeze,
            Action::Unfreeze => LedgerKind::Unfreeze,
            Action::WriteOff => LedgerKind::WriteOff,
        }
    }
}

/// The request body as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdjustRequest {
    pub action: Action,
    /// 1 to 500 distinct file names.
    #[schema(value_type = Vec<crate::domain::FileName>, min_items = 1, max_items = 500)]
    pub files: Vec<String>,
    /// Why (1 to 500 characters); booked in the ledger.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AdjustOutcome)]
pub enum Outcome {
    Banned,
    Frozen,
    Unfrozen,
    WrittenOff,
    /// Banned while assigned; the subscription got `replacement`.
    Replaced,
    /// Banned while assigned with nothing to replace it: it stays in use,
    /// goes to banned/ when it comes back, and the owner is told.
    Flagged,
    /// Already as asked.
    Unchanged,
    NotFound,
    /// Open checkouts hold all available stock.
    Held,
    /// Not possible from where the file is (see `detail`).
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = AdjustResult)]
pub struct FileResult {
    pub file: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl FileResult {
    pub(super) fn new(file: &str, outcome: Outcome) -> Self {
        FileResult { file: file.to_string(), outcome, replacement: None, detail: None }
    }
    pub(super) fn refused(file: &str, detail: impl Into<String>) -> Self {
        FileResult { detail: Some(detail.into()), ..FileResult::new(file, Outcome::Refused) }
    }
}

/// Checks the request: 1..=MAX_FILES valid, distinct names and a reason.
pub fn validate(req: &AdjustRequest) -> Result<Vec<String>, ServiceError> {
    let bad = |m: String| ServiceError::BadInput(m);
    if req.files.is_empty() || req.files.len() > MAX_FILES {
        return Err(bad(format!("files: name 1 to {MAX_FILES} files")));
    }
    if req.reason.trim().is_empty() || req.reason.len() > 500 {
        return Err(bad("reason: say why, in at most 500 characters".into()));
    }
    let mut names = Vec::with_capacity(req.files.len());
    for f in &req.files {
        let n = FileName::parse(f).map_err(|e| bad(e.to_string()))?;
        if names.iter().any(|x: &String| x == n.as_str()) {
            return Err(bad(format!("files: '{f}' is named twice")));
        }
        names.push(n.as_str().to_string());
    }
    Ok(names)
}
