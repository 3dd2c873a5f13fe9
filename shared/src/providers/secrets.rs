//! Webhook secrets: several at once while one is rotated out.

use secrecy::{ExposeSecret, SecretString};

/// Secrets from one setting, comma separated (`new,old` during a rotation).
/// Blanks are dropped.
pub fn secret_list(raw: &str) -> Vec<SecretString> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(SecretString::from).collect()
}

/// The keys to try. An empty secret is skipped: anyone can sign with it.
pub(crate) fn usable(secrets: &[SecretString]) -> impl Iterator<Item = &[u8]> {
    secrets.iter().map(|s| s.expose_secret().as_bytes()).filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_and_drop_blanks() {
        let list = secret_list(" new , ,old,");
        let shown: Vec<&str> = list.iter().map(|s| s.expose_secret()).collect();
        assert_eq!(shown, ["new", "old"]);
        assert_eq!(usable(&[SecretString::from(""), SecretString::from("k")]).count(), 1);
    }

    #[test]
    fn secrets_never_print() {
        let list = secret_list("whsec_hunter2");
        assert!(!format!("{list:?}").contains("hunter2"));
    }
}
