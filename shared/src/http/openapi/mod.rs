//! The OpenAPI 3.1 document of the HTTP API, generated from the code with
//! utoipa: handlers carry `#[utoipa::path]`, body types derive `ToSchema`,
//! error responses are named once in `responses`. Served at
//! `GET /openapi.json` and checked in as `infra/openapi.json` (the test
//! below fails when they differ).
//!
//! To document a new route: put `#[utoipa::path(...)]` on its handler
//! (staff routes: `tag = "staff", security(("staff_jwt" = []))`, and every
//! status the handler and the service errors it maps can return, besides
//! 401 and 403, which `StaffRoles` adds with the roles from
//! `auth::STAFF_ROUTES`), derive `utoipa::ToSchema` on its body types, and
//! list the handler in `ApiDoc`'s `paths(...)`. The tests fail until a route
//! in `STAFF_ROUTES` is documented.

mod events;
pub mod responses;
pub mod schemas;

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi};

use super::AppState;
use super::auth::STAFF_ROUTES;
use super::error::Problem;
use super::{admin, credits, customer, pages, sandbox, storefront, usage, webhooks};
use responses::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Stockroom",
        description = "Time-limited plans fulfilled from a finite stock of files. Money is integer minor \
            units plus an ISO currency. Errors are RFC 9457 problem+json with a stable `type` per cause.",
    ),
    paths(
        storefront::products, storefront::checkout, storefront::order, storefront::entitlement,
        usage::report,
        customer::link, customer::session, customer::me, customer::replace,
        webhooks::nowpayments_route, webhooks::stripe_route,
        admin::stock, admin::reconcile, admin::expire, admin::refund, admin::revoke, admin::delete_subscription,
        admin::ledger::ledger, admin::events::events, admin::adjust::adjust,
        usage::history, usage::remove_seat,
        credits::view, credits::gift, credits::deactivate_gift, credits::deactivate_order, credits::post,
        admin::hooks::create, admin::hooks::list, admin::hooks::delete, admin::hooks::rotate,
        admin::hooks::deliveries, admin::hooks::test, admin::hooks::resend,
        admin::orders::list, admin::orders::one, admin::catalog::list, admin::catalog::put,
        admin::analytics::analytics, admin::me::me,
        admin::staff::save, admin::staff::list, admin::staff::delete, admin::staff::enrol, admin::staff::confirm,
        admin::staff::sign_out, admin::staff::link, admin::staff::sign_in,
        sandbox::pay, sandbox::clock,
        pages::shop, pages::account, pages::console, pages::asset, pages::qr::qr_svg,
        openapi_json,
    ),
    components(schemas(
        Problem, crate::domain::EndReason, crate::domain::Direction, crate::domain::EntryKind, crate::domain::Location,
    ), responses(
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, TooLarge, Unprocessable, TooMany, RateLimited,
        Internal, ProviderDown,
    )),
    modifiers(&SecuritySchemes, &StaffRoles, &ProductEdit),
    tags(
        (name = "storefront", description = "Catalog, checkout, order status"),
        (name = "customer", description = "Buyers: sign-in by email link, their own page (customer session)"),
        (name = "bot", description = "The bot engine: entitlement check and usage reports (service token)"),
        (name = "webhooks", description = "Payment providers' signed notifications"),
        (name = "staff", description = "Staff operations (JWT; the roles each allows are in its description)"),
        (name = "sandbox", description = "Local stack only, with the sandbox on"),
        (name = "pages", description = "The buyer's pages (HTML, scripts, styles) over the API above"),
        (name = "meta", description = "This document"),
        (name = "events", description = "What merchant webhook endpoints receive (`webhooks`), one entry per event type"),
    ),
)]
pub struct ApiDoc;

/// The three bearer credentials.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let c = doc.components.get_or_insert_with(Default::default);
        let bearer = |format: Option<&str>, what: &str| {
            let mut b = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(what));
            if let Some(f) = format {
                b = b.bearer_format(f);
            }
            SecurityScheme::Http(b.build())
        };
        c.add_security_scheme(
            "staff_jwt",
            bearer(Some("JWT"), "Staff JWT, HS256, claims sub, role (admin, inventory_manager, customer_service), iat, exp, and sid for a \
                signed-in session (`POST /auth/staff/session`); without sid it is a service token"),
        );
        c.add_security_scheme(
            "customer_session",
            bearer(Some("JWT"), "A customer session from `POST /auth/session` (its own key and audience)"),
        );
        c.add_security_scheme("service_token", bearer(None, "The bot engine's service token"));
        c.add_security_scheme(
            "order_token",
            bearer(None, "The `order_token` of the checkout response; a wrong or missing one answers 404"),
        );
    }
}

/// Every staff operation: the roles `STAFF_ROUTES` allows, and 401 / 403.
struct StaffRoles;

impl Modify for StaffRoles {
    fn modify(&self, doc: &mut Document) {
        for (method, path, roles) in STAFF_ROUTES {
            let Some(op) = doc.paths.paths.get_mut(*path).and_then(|item| operation(item, method)) else {
                continue; // not documented yet: the test below says so
            };
            let names: Vec<String> =
                roles.iter().filter_map(|r| serde_json::to_value(r).ok()?.as_str().map(String::from)).collect();
            let line = format!("Roles: {}.", names.join(", "));
            op.description = Some(match op.description.take() {
                Some(d) => format!("{d}\n\n{line}"),
                None => line,
            });
            for (status, name) in [("401", "Unauthorized"), ("403", "Forbidden")] {
                op.responses.responses.insert(status.into(), RefOr::Ref(Ref::from_response_name(name)));
            }
        }
    }
}

/// `PUT /admin/products/{id}` takes a `Product` whose `id` may be left out
/// (the path names it): the same schema, `id` not required.
struct ProductEdit;

impl Modify for ProductEdit {
    fn modify(&self, doc: &mut Document) {
        let Some(schemas) = doc.components.as_mut().map(|c| &mut c.schemas) else { return };
        let Some(RefOr::T(Schema::Object(product))) = schemas.get("Product") else { return };
        let mut edit = product.clone();
        edit.required.retain(|name| name != "id");
        schemas.insert("ProductEdit".into(), RefOr::T(Schema::Object(edit)));
        let op = doc.paths.paths.get_mut("/admin/products/{id}").and_then(|item| item.put.as_mut());
        let content = op.and_then(|op| op.request_body.as_mut()).and_then(|b| b.content.get_mut("application/json"));
        if let Some(content) = content {
            content.schema = Some(RefOr::Ref(Ref::from_schema_name("ProductEdit")));
        }
    }
}

fn operation<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "GET" => item.get.as_mut(),
        "POST" => item.post.as_mut(),
        "PUT" => item.put.as_mut(),
        "PATCH" => item.patch.as_mut(),
        "DELETE" => item.delete.as_mut(),
        _ => None,
    }
}

/// The document as generated (utoipa fills an empty licence in from the
/// crate, which has none).
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    doc.info.license = None;
    doc.extensions.get_or_insert_with(Default::default).insert("webhooks".into(), events::webhooks());
    doc
}

/// The whole document (as checked in), pretty, with a final newline.
pub fn document_json() -> String {
    static FULL: LazyLock<String> = LazyLock::new(|| to_json(document()));
    FULL.clone()
}

/// The document without the sandbox routes, for stacks that do not serve them.
fn without_sandbox_json() -> String {
    static PUBLIC: LazyLock<String> = LazyLock::new(|| {
        let mut doc = document();
        doc.paths.paths.retain(|path, _| !path.starts_with("/sandbox/"));
        if let Some(tags) = doc.tags.as_mut() {
            tags.retain(|t| t.name != "sandbox");
        }
        to_json(doc)
    });
    PUBLIC.clone()
}

fn to_json(doc: Document) -> String {
    let mut text = doc.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This OpenAPI 3.1 document (sandbox routes only where the sandbox is on)",
        content_type = "application/json", body = serde_json::Value)))]
pub async fn openapi_json(State(s): State<AppState>) -> impl IntoResponse {
    let text = if s.sandbox.is_some() { document_json() } else { without_sandbox_json() };
    ([(header::CONTENT_TYPE, "application/json")], text)
}

#[cfg(test)]
mod tests;
