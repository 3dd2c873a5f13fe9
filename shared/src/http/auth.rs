//! Staff JWTs (HS256; claims sub, role, exp) and the one table of which roles
//! each staff route allows. The bot engine's service token is checked here too.

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    InventoryManager,
    CustomerService,
}

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
    ("POST", "/admin/stock/adjust", &[Admin, InventoryManager]),
    ("GET", "/admin/subscriptions/{id}/usage", ALL),
    ("POST", "/admin/subscriptions/{id}/seats/remove", &[Admin, CustomerService]),
    ("GET", "/admin/customers/{email}/credits", &[Admin, CustomerService]),
    ("POST", "/admin/credits/gifts", &[Admin, CustomerService]),
    ("POST", "/admin/credits/gifts/{id}/deactivate", &[Admin, CustomerService]),
    ("POST", "/admin/orders/{id}/deactivate", &[Admin, CustomerService]),
    ("POST", "/admin/credits/post", &[Admin]),
];

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub exp: i64,
}

/// The member of staff a request acts for (the ledger's `actor`).
#[derive(Clone, Debug)]
pub struct Staff {
    pub sub: String,
    pub role: Role,
}

impl Staff {
    /// How the ledgers name this member of staff.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.sub)
    }
}

pub fn mint(
    secret: &SecretString,
    sub: &str,
    role: Role,
    exp_secs: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims { sub: sub.to_string(), role, exp: exp_secs };
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

fn verify(secret: &SecretString, token: &str) -> Result<Claims, ApiError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "sub"]);
    v.leeway = 0;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.expose_secret().as_bytes()), &v)
        .map(|d| d.claims)
        .map_err(|e| ApiError::unauthorized(format!("staff token refused: {e}")))
}

/// Middleware for the staff router: 401 without a valid token, 403 for a role
/// the route does not allow; puts `Staff` in the request extensions.
pub async fn staff_only(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let path = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let method = req.method().as_str().to_string();
    let token = bearer(req.headers())
        .ok_or_else(|| ApiError::unauthorized("an `Authorization: Bearer <staff JWT>` header is required"))?;
    let claims = verify(&state.auth.jwt_secret, token)?;
    let allowed = STAFF_ROUTES.iter().find(|(m, p, _)| *m == method && *p == path).map(|(_, _, r)| *r).unwrap_or(&[]);
    if !allowed.contains(&claims.role) {
        return Err(ApiError::forbidden(format!("{method} {path} is not allowed for role {:?}", claims.role)));
    }
    req.extensions_mut().insert(Staff { sub: claims.sub, role: claims.role });
    Ok(next.run(req).await)
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
}
