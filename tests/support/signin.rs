//! Signing a buyer in as a person would: ask for a link, read it out of the
//! mail the stack wrote under `{data}/mail/`, exchange it for a session.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::TestApp;

impl TestApp {
    /// Every mail sent to `to` so far, oldest first: (subject, text body).
    pub fn mails_to(&self, to: &str) -> Vec<(String, String)> {
        let dir = self.dir.path().join("mail");
        let mut names: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        let mut out = Vec::new();
        for path in names {
            let raw = std::fs::read(&path).expect("read mail");
            let msg = mail_parser::MessageParser::default().parse(&raw).expect("a parseable mail");
            let addressed = msg.to().and_then(|a| a.first()).and_then(|a| a.address()).is_some_and(|a| a == to);
            if addressed {
                out.push((
                    msg.subject().unwrap_or_default().to_string(),
                    msg.body_text(0).unwrap_or_default().to_string(),
                ));
            }
        }
        out
    }

    /// The text of every sign-in mail to `email` so far.
    pub fn sign_in_texts(&self, email: &str) -> Vec<String> {
        let mails = self.mails_to(email).into_iter();
        mails.filter(|(subject, _)| subject == SIGN_IN_SUBJECT).map(|(_, text)| text).collect()
    }

    /// The tokens of every sign-in mail to `email` so far.
    pub fn sign_in_tokens(&self, email: &str) -> Vec<String> {
        self.sign_in_texts(email).iter().filter_map(|text| link_token(text)).collect()
    }

    /// Asks for a sign-in link for `email` (202) and returns the token of
    /// the sign-in mail that request sent.
    pub async fn sign_in_link(&self, email: &str) -> String {
        let before = self.sign_in_tokens(email);
        let r = self.post("/auth/link", json!({"email": email})).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
        for _ in 0..100 {
            if let Some(t) = self.sign_in_tokens(email).into_iter().find(|t| !before.contains(t)) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no sign-in mail reached {email}");
    }

    /// `POST /auth/session` with `token`: the status and body.
    pub async fn exchange(&self, token: &str) -> (StatusCode, Value) {
        let r = self.post("/auth/session", json!({"token": token})).await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A customer session for `email`, through the mailed link.
    pub async fn sign_in(&self, email: &str) -> String {
        let token = self.sign_in_link(email).await;
        let (status, v) = self.exchange(&token).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        super::s(&v["session_token"])
    }

    /// `POST` with a bearer token (a session, or anything a test forges).
    pub async fn post_as(&self, bearer: &str, path: &str, body: Value) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.url)).bearer_auth(bearer).json(&body).send().await.expect("POST")
    }

    /// `GET` with a bearer token.
    pub async fn get_as(&self, bearer: &str, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.url)).bearer_auth(bearer).send().await.expect("GET")
    }
}

/// The subject of a sign-in mail (`templates/mail/sign_in.txt`).
pub const SIGN_IN_SUBJECT: &str = "Your sign-in link";

/// The `token` of the first `...?token=` link in a mail's text.
pub fn link_token(text: &str) -> Option<String> {
    let at = text.find("?token=")? + "?token=".len();
    let token: String =
        text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    (!token.is_empty()).then_some(token)
}
