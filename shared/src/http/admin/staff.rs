//! Staff accounts (admin): add or change, list, remove; each member's own
//! second factor and sign-out; and staff sign-in (`/auth/staff/*`, no token).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::super::auth::{Role, Staff, mint_with};
use super::super::body::{RawBody, parse_json};
use super::super::customer::LinkSent;
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use super::super::{AppState, ClientIp};
use crate::domain::{Email, Timestamp};
use crate::services::ServiceError;
use crate::services::accounts::second;
use crate::services::accounts::{self, session};
use crate::services::signin::session::Session;
use crate::services::store::staff::StaffRecord;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffBody {
    #[schema(example = "clerk@shop.example")]
    pub email: String,
    pub role: Role,
    /// A disabled account cannot sign in and its sessions end for good:
    /// enabling it again revives none (default false).
    #[serde(default)]
    pub disabled: bool,
}

/// A staff account as shown (never its secrets).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub email: String,
    pub role: Role,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub disabled: bool,
    /// Sign-in needs a TOTP code.
    pub totp: bool,
}

impl From<StaffRecord> for StaffView {
    fn from(r: StaffRecord) -> Self {
        StaffView {
            totp: r.totp_secret.is_some(),
            email: r.email,
            role: r.role,
            created_by: r.created_by,
            created_at: r.created_at.rfc3339(),
            disabled: r.disabled,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffList {
    pub staff: Vec<StaffView>,
}

fn email(raw: &str) -> Result<Email, ApiError> {
    Email::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

#[utoipa::path(post, path = "/admin/staff", tag = "staff", operation_id = "save_staff", security(("staff_jwt" = [])),
    request_body = StaffBody,
    responses(
        (status = 201, description = "Added; a `staff.changed` event records who and when", body = StaffView),
        (status = 200, description = "Changed (role, disabled); its sessions act with the new role at once", body = StaffView),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn save(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(raw): RawBody,
) -> Result<(StatusCode, Json<StaffView>), ApiError> {
    let body: StaffBody = parse_json(&raw)?;
    let who = email(&body.email)?;
    let (rec, created) =
        accounts::save(&s.ctx, &who, body.role, body.disabled, &staff.actor(), staff.account()).await?;
    s.sessions.forget_all();
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(rec.into())))
}

#[utoipa::path(get, path = "/admin/staff", tag = "staff", operation_id = "list_staff", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "Every staff account", body = StaffList),
        (status = 500, response = Internal),
    ))]
pub async fn list(State(s): State<AppState>) -> Result<Json<StaffList>, ApiError> {
    let staff = accounts::list(&s.ctx).await?.into_iter().map(StaffView::from).collect();
    Ok(Json(StaffList { staff }))
}

#[utoipa::path(delete, path = "/admin/staff/{email}", tag = "staff", operation_id = "delete_staff", security(("staff_jwt" = [])),
    params(("email" = String, Path, description = "The account's email")),
    responses(
        (status = 204, description = "Removed; its sessions end at once"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn delete(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<StatusCode, ApiError> {
    let who = email(&raw)?;
    accounts::remove(&s.ctx, who.as_str(), &staff.actor(), staff.account()).await?;
    s.sessions.forget_all();
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /admin/staff/me/totp`, optional for a first enrolment.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// Needed while a second factor is on: a current code of it, or an
    /// unused recovery code (a session alone cannot replace the factor).
    #[serde(default)]
    #[schema(example = "123456")]
    pub code: Option<String>,
}

/// Starts enrolling a second factor, in force after the confirm step.
///
/// While one is on, replacing it takes `code` (a current code of it or an
/// unused recovery code); without it, or with a wrong or spent one, the
/// answer is 400 (type `invalid-request`) and nothing changes but the
/// count of wrong codes, which is limited per account (429).
#[utoipa::path(post, path = "/admin/staff/me/totp", tag = "staff", operation_id = "enrol_totp", security(("staff_jwt" = [])),
    request_body(content = Option<EnrolBody>, description = "Optional; `code` is needed to replace a second factor in force"),
    responses(
        (status = 200, description = "A new TOTP secret and recovery codes, shown once; in force after the confirm step", body = EnrolmentView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
    ))]
pub async fn enrol(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(raw): RawBody,
) -> Result<Json<EnrolmentView>, ApiError> {
    // No body (or `null`): no code, which a first enrolment does not need.
    let body: EnrolBody = match raw.trim_ascii() {
        b"" | b"null" => EnrolBody::default(),
        _ => parse_json(&raw)?,
    };
    let me = staff.account().ok_or_else(|| ServiceError::NotFound("a service token has no account to enrol".into()))?;
    let e = second::enrol(&s.ctx, me, body.code.as_deref()).await?;
    let otpauth_qr_svg = crate::http::pages::qr::render(&e.otpauth_uri)?;
    Ok(Json(EnrolmentView {
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
        recovery_codes: e.recovery_codes,
        otpauth_qr_svg,
    }))
}

/// An enrolment as shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrolmentView {
    /// The secret, base32 (for typing into an app).
    pub secret: String,
    /// The same as an `otpauth://totp/...` URI.
    pub otpauth_uri: String,
    /// The URI as a QR code (SVG), drawn here so the secret never travels
    /// in a URL (`/qr.svg?data=` would put it in access logs).
    pub otpauth_qr_svg: String,
    /// Single-use codes that stand in for a TOTP code; shown this once.
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The six-digit code the app shows now.
    #[schema(example = "123456")]
    pub code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    pub detail: &'static str,
}

#[utoipa::path(post, path = "/admin/staff/me/totp/confirm", tag = "staff", operation_id = "confirm_totp", security(("staff_jwt" = [])),
    request_body = CodeBody,
    responses(
        (status = 200, description = "The secret is in force: sign-in needs a code from now on; a `staff.changed` event (action `totp_enrolled`, or `totp_replaced`) records it", body = Confirmed),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
    ))]
pub async fn confirm(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(raw): RawBody,
) -> Result<Json<Confirmed>, ApiError> {
    let body: CodeBody = parse_json(&raw)?;
    let me = staff.account().ok_or_else(|| ServiceError::NotFound("a service token has no account to enrol".into()))?;
    second::confirm(&s.ctx, me, &body.code, &staff.actor()).await?;
    Ok(Json(Confirmed { detail: "second factor on: sign-in needs a code (or a recovery code) from now on" }))
}

#[utoipa::path(delete, path = "/admin/staff/me/session", tag = "staff", operation_id = "sign_out_staff", security(("staff_jwt" = [])),
    responses(
        (status = 204, description = "This session ended; its token is refused from now on"),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    ))]
pub async fn sign_out(State(s): State<AppState>, Extension(staff): Extension<Staff>) -> Result<StatusCode, ApiError> {
    let sid = staff.sid.ok_or_else(|| ServiceError::NotFound("a service token has no session to end".into()))?;
    session::end(&s.ctx, &sid).await?;
    s.sessions.forget_all();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/auth/staff/link", tag = "staff",
    request_body = super::super::customer::LinkBody,
    responses(
        (status = 202, description = "Whatever the address: a staff account gets a single-use sign-in link valid 15 minutes; other addresses get nothing", body = LinkSent),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
    ))]
pub async fn link(
    State(s): State<AppState>,
    ip: Option<Extension<ClientIp>>,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let body = parse_json::<super::super::customer::LinkBody>(&raw)?;
    let who = email(&body.email)?;
    let ip = ip.map(|Extension(ClientIp(ip))| ip);
    session::request_link(&s.ctx, &who, ip.as_deref()).await?;
    let sent = LinkSent {
        detail: "if that address is a staff account, a sign-in link is on its way; it works once, for 15 minutes",
    };
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffSessionBody {
    /// The `token` of the sign-in link.
    pub token: String,
    /// Once the account enrolled a second factor: the TOTP code, or a recovery code.
    #[serde(default)]
    pub totp: Option<String>,
}

#[utoipa::path(post, path = "/auth/staff/session", tag = "staff",
    request_body = StaffSessionBody,
    responses(
        (status = 200, description = "The link is used up; a staff JWT (claims sub, role, exp, sid) for a new session", body = Session),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
    ))]
pub async fn sign_in(State(s): State<AppState>, RawBody(raw): RawBody) -> Result<Json<Session>, ApiError> {
    let body: StaffSessionBody = parse_json(&raw)?;
    let hours = s.auth.session_secs / 3600;
    let (rec, started) = session::sign_in(&s.ctx, body.token.trim(), body.totp.as_deref(), hours.max(1)).await?;
    // The JWT's times are the real clock's, as `verify` checks them.
    let exp = Timestamp::system_now().secs() + s.auth.session_secs;
    let token = mint_with(&s.auth.jwt_secret, &rec.email, rec.role, exp, Some(&started.sid))
        .map_err(|e| ApiError::from(ServiceError::internal(e)))?;
    Ok(Json(Session { session_token: token, expires_at: Timestamp::from_secs(exp).rfc3339() }))
}
