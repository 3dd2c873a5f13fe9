//! Staff JWTs (HS256; claims sub, role, iat, exp) and the one table of which
//! roles each staff route allows. The bot engine's service token is checked here too.

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;

pub use crate::domain::Role;

use Role::{Admin, CustomerService, InventoryManager};

const ALL: &[Role] = &[Admin, InventoryManager, CustomerService];

/// Which roles each staff route allows. Routes not listed here are refused.
pub const STAFF_ROUTES: &[(&str, &str, &[Role])] = &[
    ("GET", "/admin/stock", ALL),
    ("POST", "/admin/reconcile", &[Admin]),
    ("POST", "/admin/expire", &[Admin]),
    ("POST", "/admin/orders/{id}/refund", &[Admin]),
    ("POST", "/admin/subscriptions/{id}/revoke", &[Admin, CustomerService]),
    ("DELETE", "/admin/subscriptions/{id}", &[Admin]),
    ("GET", "/admin/ledger", ALL),
    ("GET", "/admin/events", &[Admin]),
    ("POST", "/admin/stock/adjust", &[Admin, InventoryManager]),
    ("GET", "/admin/subscriptions/{id}/usage", ALL),
    ("POST", "/admin/subscriptions/{id}/seats/remove", &[Admin, CustomerService]),
    ("GET", "/admin/customers/{email}/credits", &[Admin, CustomerService]),
    ("POST", "/admin/credits/gifts", &[Admin, CustomerService]),
    ("POST", "/admin/credits/gifts/{id}/deactivate", &[Admin, CustomerService]),
    ("POST", "/admin/orders/{id}/deactivate", &[Admin, CustomerService]),
    ("POST", "/admin/credits/post", &[Admin]),
    ("POST", "/admin/webhooks", &[Admin]),
    ("GET", "/admin/webhooks", &[Admin]),
    ("DELETE", "/admin/webhooks/{id}", &[Admin]),
    ("POST", "/admin/webhooks/{id}/rotate", &[Admin]),
    ("GET", "/admin/webhooks/{id}/deliveries", &[Admin]),
    ("POST", "/admin/webhooks/{id}/test", &[Admin]),
    ("POST", "/admin/events/{id}/resend", &[Admin]),
    ("GET", "/admin/orders", ALL),
    ("GET", "/admin/orders/{id}", ALL),
    ("GET", "/admin/products", ALL),
    ("PUT", "/admin/products/{id}", &[Admin]),
    ("GET", "/admin/analytics", ALL),
    ("GET", "/admin/me", ALL),
    ("POST", "/admin/staff", &[Admin]),
    ("GET", "/admin/staff", &[Admin]),
    ("DELETE", "/admin/staff/{email}", &[Admin]),
    ("POST", "/admin/staff/me/totp", ALL),
    ("POST", "/admin/staff/me/totp/confirm", ALL),
    ("DELETE", "/admin/staff/me/session", ALL),
];

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    /// The staff session a signed-in token belongs to. Tokens without one
    /// are service tokens (`stockroom token`): valid until `exp`, for the
    /// operator who holds the signing secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Clock skew allowed between the signer and this stack for `iat`.
const IAT_SKEW_SECS: i64 = 60;

/// The member of staff a request acts for (the ledger's `actor`).
#[derive(Clone, Debug)]
pub struct Staff {
    pub sub: String,
    pub role: Role,
    /// The session, for a signed-in member of staff (then `sub` is their
    /// account's email); none for a service token.
    pub sid: Option<String>,
}

impl Staff {
    /// How the ledgers name this member of staff.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.sub)
    }

    /// The caller's own account, when signed in as one.
    pub fn account(&self) -> Option<&str> {
        self.sid.as_ref().map(|_| self.sub.as_str())
    }
}

pub fn mint(
    secret: &SecretString,
    sub: &str,
    role: Role,
    exp_secs: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    mint_with(secret, sub, role, exp_secs, None)
}

/// A token for a staff session `sid`.
pub fn mint_with(
    secret: &SecretString,
    sub: &str,
    role: Role,
    exp_secs: i64,
    sid: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let iat = crate::domain::Timestamp::system_now().secs();
    let claims = Claims { sub: sub.to_string(), role, iat, exp: exp_secs, sid: sid.map(str::to_string) };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers)
}

/// Signature and expiry (by the real clock), then what the library leaves
/// to us: a named member of staff, and a lifetime no longer than allowed, so
/// a leaked token is not good for months.
fn verify(keys: &AuthKeys, token: &str) -> Result<Claims, ApiError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "sub", "iat"]);
    v.leeway = 0;
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(keys.jwt_secret.expose_secret().as_bytes()),
        &v,
    )
    .map(|d| d.claims)
    .map_err(|e| ApiError::unauthorized(format!("staff token refused: {e}")))?;
    check_claims(&claims, keys.max_token_secs, crate::domain::Timestamp::system_now().secs())?;
    Ok(claims)
}

fn check_claims(c: &Claims, max_secs: i64, now: i64) -> Result<(), ApiError> {
    let refused = |why: String| Err(ApiError::unauthorized(format!("staff token refused: {why}")));
    if c.sub.trim().is_empty() || c.sub.len() > 128 || c.sub.chars().any(char::is_control) {
        return refused("sub must name the member of staff (1 to 128 printable characters)".into());
    }
    if c.iat > now.saturating_add(IAT_SKEW_SECS) {
        return refused("iat is in the future".into());
    }
    if c.exp.saturating_sub(c.iat) > max_secs {
        return refused(format!("it lives longer than the {} h allowed", max_secs / 3600));
    }
    Ok(())
}

/// Middleware for the staff router: 401 without a valid token, 403 for a role
/// the route does not allow; puts `Staff` in the request extensions.
pub async fn staff_only(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let path = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let method = req.method().as_str().to_string();
    let token = bearer(req.headers())
        .ok_or_else(|| ApiError::unauthorized("an `Authorization: Bearer <staff JWT>` header is required"))?;
    let claims = verify(&state.auth, token)?;
    // A session acts with its account's role now, not the one it began with.
    let role = match &claims.sid {
        None => claims.role,
        Some(sid) => live_role(&state, sid, &claims.sub).await?,
    };
    let allowed = STAFF_ROUTES.iter().find(|(m, p, _)| *m == method && *p == path).map(|(_, _, r)| *r).unwrap_or(&[]);
    if !allowed.contains(&role) {
        return Err(ApiError::forbidden(format!("{method} {path} is not allowed for role {role:?}")));
    }
    req.extensions_mut().insert(Staff { sub: claims.sub, role, sid: claims.sid });
    Ok(next.run(req).await)
}

/// The role of a live session (cached briefly), or 401.
async fn live_role(state: &AppState, sid: &str, sub: &str) -> Result<Role, ApiError> {
    if let Some(role) = state.sessions.get(sid) {
        return Ok(role);
    }
    let role = crate::services::accounts::session::check(&state.ctx, sid, sub).await?;
    state.sessions.put(sid, role);
    Ok(role)
}

/// The bot engine's bearer token, compared in constant time.
pub fn service_only(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers)
        .ok_or_else(|| ApiError::unauthorized("an `Authorization: Bearer <service token>` header is required"))?;
    let want = state.auth.service_token.expose_secret().as_bytes();
    if bool::from(token.as_bytes().ct_eq(want)) { Ok(()) } else { Err(ApiError::unauthorized("service token refused")) }
}

/// Secrets the HTTP edge checks.
#[derive(Clone)]
pub struct AuthKeys {
    pub jwt_secret: SecretString,
    pub service_token: SecretString,
    /// The longest a staff token may live (exp - iat).
    pub max_token_secs: i64,
    /// How long a staff session lives (at most `max_token_secs`).
    pub session_secs: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> AuthKeys {
        AuthKeys {
            jwt_secret: SecretString::from("a-test-secret-of-enough-length!!"),
            service_token: SecretString::from("svc"),
            max_token_secs: crate::config::STAFF_TOKEN_MAX_HOURS * 3600,
            session_secs: crate::config::STAFF_SESSION_HOURS * 3600,
        }
    }

    fn sign(claims: &serde_json::Value) -> String {
        let key = EncodingKey::from_secret(keys().jwt_secret.expose_secret().as_bytes());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).unwrap()
    }

    fn now() -> i64 {
        crate::domain::Timestamp::system_now().secs()
    }

    #[test]
    fn a_minted_token_verifies() {
        let t = mint(&keys().jwt_secret, "ann", Role::Admin, now() + 600).unwrap();
        assert_eq!(verify(&keys(), &t).unwrap().sub, "ann");
    }

    #[test]
    fn empty_or_blank_sub_is_refused() {
        for sub in ["", "   ", "a\u{7}b"] {
            let t = sign(&serde_json::json!({"sub": sub, "role": "admin", "iat": now(), "exp": now() + 60}));
            assert!(verify(&keys(), &t).is_err(), "sub {sub:?} was accepted");
        }
    }

    #[test]
    fn iat_is_required_and_not_in_the_future() {
        let no_iat = sign(&serde_json::json!({"sub": "ann", "role": "admin", "exp": now() + 60}));
        assert!(verify(&keys(), &no_iat).is_err());
        let ahead = sign(&serde_json::json!({"sub": "ann", "role": "admin", "iat": now() + 3600, "exp": now() + 7200}));
        assert!(verify(&keys(), &ahead).is_err());
    }

    #[test]
    fn lifetime_is_capped() {
        let max = crate::config::STAFF_TOKEN_MAX_HOURS * 3600;
        let long = sign(&serde_json::json!({"sub": "ann", "role": "admin", "iat": now(), "exp": now() + max + 1}));
        assert!(verify(&keys(), &long).is_err());
        let ok = sign(&serde_json::json!({"sub": "ann", "role": "admin", "iat": now(), "exp": now() + max}));
        assert!(verify(&keys(), &ok).is_ok());
    }
}
