//! Customer sessions: an HS256 JWT under its own key
//! (`STOCKROOM_CUSTOMER_JWT_SECRET`) with its own audience, so it never
//! passes as a staff token and no staff token passes as one (staff tokens
//! have another key, no `aud` and a `role`). Times are the business clock
//! (the sandbox clock moves them, as it moves link lapses).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::domain::{Email, Timestamp};
use crate::services::{Ctx, ServiceError};

/// The `aud` of every customer session.
pub const AUDIENCE: &str = "stockroom:customer";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The buyer's email, as parsed.
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// A new session: the token and when it ends.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub session_token: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

pub fn mint(ctx: &Ctx, email: &Email) -> Result<Session, ServiceError> {
    let now = ctx.clock.now();
    let exp = now.plus_millis(ctx.settings.session_millis);
    let claims = Claims { sub: email.as_str().into(), aud: AUDIENCE.into(), iat: now.secs(), exp: exp.secs() };
    let key = EncodingKey::from_secret(ctx.settings.session_key.expose_secret().as_bytes());
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(ServiceError::internal)?;
    Ok(Session { session_token: token, expires_at: Timestamp::from_secs(exp.secs()).rfc3339() })
}

/// The buyer a session token is for; `Unauthorized` for anything else
/// (bad signature, other audience, lapsed, longer-lived than allowed).
pub fn verify(ctx: &Ctx, token: &str) -> Result<Email, ServiceError> {
    let refused = |why: &str| ServiceError::Unauthorized(format!("customer session refused: {why}"));
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "sub", "aud", "iat"]);
    v.set_audience(&[AUDIENCE]);
    // Expiry by the business clock, below.
    v.validate_exp = false;
    let key = DecodingKey::from_secret(ctx.settings.session_key.expose_secret().as_bytes());
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &v).map_err(|e| refused(&e.to_string()))?.claims;
    let now = ctx.clock.now().secs();
    if claims.exp <= now {
        return Err(refused("it has lapsed; sign in again"));
    }
    if claims.iat > now + 60 || claims.exp - claims.iat > ctx.settings.session_millis / 1000 {
        return Err(refused("its times are not ones this shop issues"));
    }
    Email::parse(&claims.sub).map_err(|_| refused("its subject is not an email"))
}
