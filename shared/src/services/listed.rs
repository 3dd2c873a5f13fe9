//! What a key in a storage listing is: a stock file, the journal sidecar of
//! one, or something else (a README, a stray journal, a bad path) that is
//! never adopted, counted or sold and is left where it is. Every reader of
//! the listings (restock, reconcile, the invariant checker, the stock view)
//! judges keys here, so they all agree on what stock is.

use std::collections::HashSet;

use super::{Ctx, ServiceError};
use crate::domain::{FileName, Judged};

/// One listed key, judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Listed {
    /// A stock file; `user` is its owner under assigned/.
    Stock { user: Option<String>, name: String },
    /// The journal of a session file that is beside it.
    Sidecar,
    /// Not stock, and why.
    Rejected(String),
}

/// Most rejected keys a report names (the count has them all).
pub(crate) const REJECTED_SAMPLE: usize = 100;

/// `{location}/{name}` or `assigned/{user}/{name}` -> (user, name).
fn split(key: &str) -> Result<(Option<&str>, &str), String> {
    let Some((top, rest)) = key.split_once('/') else { return Err(format!("'{key}' is not under a prefix")) };
    if top != "assigned" {
        return Ok((None, rest));
    }
    match rest.split_once('/') {
        Some((user, name)) if FileName::parse(user).is_ok() => Ok((Some(user), name)),
        _ => Err(format!("'{key}' is not assigned/{{user}}/{{file}}")),
    }
}

/// One key judged on its own: a journal still needs its session file looked for.
enum Alone {
    Judged(Listed),
    Journal { session: String },
}

fn judge_alone(ctx: &Ctx, key: &str) -> Alone {
    let (user, name) = match split(key) {
        Ok(parts) => parts,
        Err(why) => return Alone::Judged(Listed::Rejected(why)),
    };
    Alone::Judged(match ctx.settings.stock_pattern.judge(name) {
        Judged::Stock(n) => Listed::Stock { user: user.map(str::to_string), name: n.as_str().to_string() },
        Judged::Junk(why) => Listed::Rejected(why),
        Judged::Sidecar { of } => return Alone::Journal { session: format!("{}{of}", &key[..key.len() - name.len()]) },
    })
}

/// The stock file a key holds, if it is one (journals and junk are not).
pub(crate) fn stock(ctx: &Ctx, key: &str) -> Option<(Option<String>, String)> {
    match judge_alone(ctx, key) {
        Alone::Judged(Listed::Stock { user, name }) => Some((user, name)),
        _ => None,
    }
}

/// Judges a page of keys. A journal counts as a sidecar when its session
/// file is in the page (the usual case: the two sort side by side) or, at
/// a page's edge, in storage; otherwise it is a stray and is rejected.
pub(crate) async fn judge_page(ctx: &Ctx, keys: &[String]) -> Result<Vec<Listed>, ServiceError> {
    let in_page: HashSet<&str> = keys.iter().map(String::as_str).collect();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let judged = match judge_alone(ctx, key) {
            Alone::Judged(listed) => listed,
            Alone::Journal { session } if in_page.contains(session.as_str()) => Listed::Sidecar,
            Alone::Journal { session } if ctx.files.head(&session).await?.is_some() => Listed::Sidecar,
            Alone::Journal { session } => Listed::Rejected(format!("a journal with no '{session}' beside it")),
        };
        out.push(judged);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::stack::embedded_ctx;

    #[tokio::test]
    async fn stock_journals_and_junk_are_told_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = embedded_ctx(dir.path());
        ctx.files.put("unused/far.session", b"x".to_vec(), true).await.expect("put");
        let keys: Vec<String> = [
            "unused/README.txt",
            "unused/a.session",
            "unused/a.session-journal",
            "unused/far.session-journal",
            "unused/x.session-journal",
            "assigned/u1/b.session",
            "assigned/b.session",
            "unused/sub/c.session",
        ]
        .map(String::from)
        .to_vec();
        let judged = judge_page(&ctx, &keys).await.expect("judge");
        let want = |user: Option<&str>, name: &str| Listed::Stock { user: user.map(String::from), name: name.into() };
        assert!(matches!(judged[0], Listed::Rejected(_)), "README.txt");
        assert_eq!(judged[1], want(None, "a.session"));
        assert_eq!(judged[2], Listed::Sidecar, "beside its session in the page");
        assert_eq!(judged[3], Listed::Sidecar, "its session is in storage, past the page");
        assert!(matches!(&judged[4], Listed::Rejected(why) if why.contains("journal")), "{:?}", judged[4]);
        assert_eq!(judged[5], want(Some("u1"), "b.session"));
        assert!(matches!(judged[6], Listed::Rejected(_)), "assigned/ without a user");
        assert!(matches!(judged[7], Listed::Rejected(_)), "a nested path");
        assert_eq!(stock(&ctx, "unused/a.session-journal"), None);
    }
}
