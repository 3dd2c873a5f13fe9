use std::path::PathBuf;

use serde_json::Value;

use super::*;

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/openapi.json")
}

/// `infra/openapi.json` is what the code generates. To refresh it:
/// `STOCKROOM_WRITE_OPENAPI=1 cargo test -p shared --lib openapi`.
#[test]
fn checked_in_document_is_current() {
    let want = document_json();
    let path = checked_in();
    if std::env::var_os("STOCKROOM_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let line = have.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(0) + 1;
        panic!(
            "infra/openapi.json differs from the document the code generates (first at line {line}).\n\
             Regenerate it and commit the result:\n  \
             STOCKROOM_WRITE_OPENAPI=1 cargo test -p shared --lib openapi"
        );
    }
}

fn doc() -> Value {
    serde_json::from_str(&document_json()).unwrap()
}

#[test]
fn is_openapi_3_1_with_the_contract_routes() {
    let d = doc();
    assert_eq!(d["openapi"], "3.1.0");
    let mut ops: Vec<String> = Vec::new();
    for (path, item) in d["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    ops.sort();
    let mut want = vec![
        "GET /products",
        "POST /checkout",
        "GET /orders/{order_id}",
        "GET /subscriptions/{id}/entitlement",
        "POST /subscriptions/{id}/usage",
        "POST /auth/link",
        "POST /auth/session",
        "POST /auth/staff/link",
        "POST /auth/staff/session",
        "GET /me",
        "POST /me/subscriptions/{id}/replacements",
        "POST /webhooks/nowpayments",
        "POST /webhooks/stripe",
        "POST /sandbox/pay/{order_id}",
        "POST /sandbox/clock",
        "GET /openapi.json",
        "GET /shop",
        "GET /account",
        "GET /console",
        "GET /assets/{name}",
        "GET /qr.svg",
    ];
    want.extend(STAFF_ROUTES.iter().map(|(m, p, _)| -> &str { Box::leak(format!("{m} {p}").into_boxed_str()) }));
    want.sort();
    assert_eq!(ops, want);
}

/// A staff route added to `STAFF_ROUTES` must be documented (see `admin`).
#[test]
fn every_staff_route_is_documented() {
    let d = doc();
    for (method, path, roles) in STAFF_ROUTES {
        let op = &d["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is in STAFF_ROUTES but not in the OpenAPI document");
        assert_eq!(op["security"][0]["staff_jwt"], serde_json::json!([]), "{method} {path}: staff_jwt");
        for status in ["401", "403"] {
            assert!(op["responses"][status].is_object(), "{method} {path}: {status}");
        }
        let desc = op["description"].as_str().unwrap_or_default();
        for r in *roles {
            let name = serde_json::to_value(r).unwrap();
            assert!(desc.contains(name.as_str().unwrap()), "{method} {path}: role {name} not named in {desc:?}");
        }
    }
}

/// Every error response is problem+json with the Problem schema.
#[test]
fn errors_are_problem_json() {
    let d = doc();
    let responses = d["components"]["responses"].as_object().unwrap();
    assert!(responses.len() >= 10);
    for (name, r) in responses {
        let schema = &r["content"]["application/problem+json"]["schema"]["$ref"];
        assert_eq!(schema, "#/components/schemas/Problem", "{name}");
    }
    let problem = &d["components"]["schemas"]["Problem"];
    let mut required: Vec<&str> = problem["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    required.sort();
    assert_eq!(required, ["detail", "status", "title", "type"]);
    for (path, item) in d["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, r) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let target = r["$ref"].as_str().unwrap_or_default();
                    assert!(target.starts_with("#/components/responses/"), "{method} {path} {status}: {r}");
                }
            }
        }
    }
}

/// The field names API.md fixes, as the document shows them.
#[test]
fn bodies_carry_the_contract_fields() {
    let d = doc();
    let props = |name: &str| -> Vec<String> {
        let s = &d["components"]["schemas"][name];
        let own = s["properties"].as_object().cloned().unwrap_or_default();
        let mut all: Vec<String> = own.keys().cloned().collect();
        for part in s["allOf"].as_array().cloned().unwrap_or_default() {
            let inner = match part["$ref"].as_str() {
                Some(r) => d["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
                None => part,
            };
            all.extend(inner["properties"].as_object().cloned().unwrap_or_default().keys().cloned());
        }
        all
    };
    let has = |name: &str, fields: &[&str]| {
        let got = props(name);
        for f in fields {
            assert!(got.iter().any(|g| g == f), "{name} lacks {f}: {got:?}");
        }
    };
    has("ProductView", &["id", "name", "tier", "price", "files", "interval_seconds", "validity_days", "in_stock"]);
    has("Money", &["amount", "currency"]);
    has("CheckoutBody", &["email", "product_id", "provider", "pay_currency"]);
    has("CheckoutResponse", &["order_id", "order_token", "status", "price", "reserved_until", "payment"]);
    has("Invoice", &["provider", "payment_id", "pay_address", "pay_amount", "pay_currency", "checkout_url"]);
    has("OrderView", &["order_id", "status", "product_id", "price", "subscription"]);
    has("SubscriptionView", &["id", "state", "valid_until", "interval_seconds", "files"]);
    has("Entitlement", &["subscription_id", "state", "can_run", "interval_seconds", "valid_until", "files"]);
    has("StockView", &["unused", "reserved", "assigned", "banned", "frozen", "available"]);
    has("ReconcileReport", &["scanned", "adopted", "repaired", "orphans", "ghosts", "duplicates"]);
    has("ClockBody", &["advance_seconds"]);
    // Staff side, usage and credits.
    has("CheckoutBody", &["use_credits"]);
    assert!(!props("CheckoutBody").iter().any(|f| f == "credits_proof"), "credits_proof is gone: sessions prove");
    has("LinkBody", &["email"]);
    has("SessionBody", &["token"]);
    has("Session", &["session_token", "expires_at"]);
    has("Me", &["email", "subscriptions", "orders", "credits"]);
    has("MySubscription", &["id", "product_id", "state", "valid_until", "interval_seconds", "files", "can_run"]);
    has("MyOrder", &["order_id", "status", "product_id", "price", "created_at"]);
    has("CreditsView", &["posted", "pending_in", "pending_out", "spendable"]);
    has("CheckoutResponse", &["amount_due", "credits_used"]);
    has("Entitlement", &["usage", "usage_status"]);
    has("ProductView", &["quotas", "usage_fail", "seat_price"]);
    has("AdjustRequest", &["action", "files", "reason"]);
    has("LedgerPageView", &["entries", "summary", "next_cursor"]);
    has("LedgerEntryView", &["id", "at", "kind", "delta", "before", "after", "reason", "reference", "actor"]);
    has("ReportRequest", &["metric", "quantity", "idempotency_key"]);
    has("CreditsView", &["email", "posted", "pending_in", "pending_out", "spendable", "entries"]);
    has("CreditEntry", &["id", "kind", "amount", "reference", "at", "actor"]);
    has("GiftBody", &["email", "amount", "reason"]);
    has("PayBody", &["status", "amount"]);
    assert_eq!(d["components"]["schemas"]["OrderStatus"]["enum"].as_array().unwrap().len(), 9);
    let ledger = &d["paths"]["/admin/ledger"]["get"]["responses"]["200"];
    assert!(ledger["content"]["text/csv"].is_object(), "ledger CSV: {ledger}");
    assert!(ledger["headers"]["Next-Cursor"].is_object(), "ledger Next-Cursor: {ledger}");
    assert_eq!(
        d["components"]["schemas"]["SubscriptionState"]["enum"],
        serde_json::json!(["active", "grace", "expired", "revoked"])
    );
}

/// Every `$ref` names a component that is there (a type alias or a type
/// without `ToSchema` shows up as a reference to nothing).
#[test]
fn every_reference_resolves() {
    let text = document_json();
    let d = doc();
    for part in text.split("\"$ref\": \"#/components/").skip(1) {
        let target = part.split('"').next().unwrap_or_default();
        let (kind, name) = target.split_once('/').unwrap_or_default();
        assert!(d["components"][kind][name].is_object(), "dangling $ref to {target}");
    }
}

/// The event catalogue (`webhooks`): every type an endpoint may subscribe
/// to is there, every entry's example is the code's own event and fits its
/// schema (each field the example sends is declared, each required one sent).
#[test]
fn the_event_catalogue_lists_every_type_with_a_fitting_example() {
    let d = doc();
    let hooks = d["webhooks"].as_object().expect("a webhooks section");
    for kind in crate::services::hooks::EVENT_TYPES {
        assert!(hooks.contains_key(*kind), "{kind} is not in the catalogue");
    }
    let made: Vec<String> = crate::services::events::examples().iter().map(|e| e.kind()).collect();
    assert_eq!(made.len(), hooks.len(), "an example per variant: {made:?}");
    for (kind, item) in hooks {
        let media = &item["post"]["requestBody"]["content"]["application/json"];
        let example = &media["example"];
        assert_eq!(example["type"], kind.as_str());
        let schema = &media["schema"]["properties"]["data"];
        let declared = schema["properties"].as_object().unwrap_or_else(|| panic!("{kind}: no data properties"));
        let sent = example["data"].as_object().unwrap_or_else(|| panic!("{kind}: no example data"));
        for field in sent.keys() {
            assert!(declared.contains_key(field), "{kind}: example sends undeclared {field}");
        }
        for field in schema["required"].as_array().into_iter().flatten() {
            assert!(sent.contains_key(field.as_str().unwrap_or_default()), "{kind}: example lacks required {field}");
        }
        let headers: Vec<&str> =
            item["post"]["parameters"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(headers, ["webhook-id", "webhook-timestamp", "webhook-signature"], "{kind}");
    }
}

#[test]
fn a_product_edit_may_leave_the_id_to_the_path() {
    let doc = doc();
    let body = &doc["paths"]["/admin/products/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/ProductEdit");
    let required = |name: &str| doc["components"]["schemas"][name]["required"].as_array().cloned().unwrap_or_default();
    assert!(required("Product").contains(&Value::from("id")));
    assert!(!required("ProductEdit").contains(&Value::from("id")));
    assert!(required("ProductEdit").contains(&Value::from("price")));
}
