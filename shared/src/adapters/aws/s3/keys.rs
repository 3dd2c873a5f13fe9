//! Object keys: what we accept, and how CopyObject wants its source.

use crate::ports::files::FileError;

/// A key is a relative path: no leading or trailing `/`, no empty, `.` or
/// `..` segment, no backslash or NUL (keys must mean the same on disk).
pub(super) fn check_key(key: &str) -> Result<(), FileError> {
    let bad_segment = key.split('/').any(|s| s.is_empty() || s == "." || s == "..");
    if bad_segment || key.contains(['\\', '\0']) {
        return Err(FileError::InvalidKey(key.to_string()));
    }
    Ok(())
}

/// `bucket/key`, URL-encoded (the SDK sends CopySource as given).
pub(super) fn copy_source(bucket: &str, key: &str) -> String {
    let mut out = String::with_capacity(bucket.len() + key.len() + 1);
    out.push_str(bucket);
    out.push('/');
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_relative_paths() {
        assert!(check_key("unused/acct-1.session").is_ok());
        for bad in ["", "/unused/a", "unused/", "unused//a", "unused/../a", "./a", "a\\b"] {
            assert!(matches!(check_key(bad), Err(FileError::InvalidKey(_))), "{bad:?}");
        }
    }

    #[test]
    fn copy_source_is_percent_encoded() {
        assert_eq!(copy_source("b", "assigned/u+1@x/a b.session"), "b/assigned/u%2B1%40x/a%20b.session");
    }
}
