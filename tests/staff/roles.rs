//! The role walk, generated from `STAFF_ROUTES` itself: every staff route
//! refuses a missing, expired, foreign-signed, nameless or too long-lived
//! token with 401, refuses each
//! role the table leaves out with 403, and lets the others through (any
//! status but 401/403, never the router's "no such route", never a 5xx).

use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use shared::config::LOCAL_JWT_SECRET;
use shared::domain::Timestamp;
use shared::http::auth::{Role, STAFF_ROUTES, mint};
use stockroom_tests::{problem, spawn_app};

use super::helpers::call;

/// Path parameters become a dummy id.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { "01J0000000000000000DUMMYID" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_staff_route_answers_exactly_as_the_table_says() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let now = Timestamp::system_now().secs();
    let expired = mint(&SecretString::from(LOCAL_JWT_SECRET), "tester", Role::Admin, now - 60).unwrap();
    let foreign = mint(&SecretString::from("not-the-stack-secret"), "tester", Role::Admin, now + 3600).unwrap();
    // Who acted must be named, and a leaked token must not live for months.
    let nobody = mint(&SecretString::from(LOCAL_JWT_SECRET), "", Role::Admin, now + 3600).unwrap();
    let forever = mint(&SecretString::from(LOCAL_JWT_SECRET), "tester", Role::Admin, now + 13 * 3600).unwrap();
    assert!(STAFF_ROUTES.len() >= 8);
    for (method, path, roles) in STAFF_ROUTES {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let url = concrete(path);
        let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
        for (what, token) in [
            ("no token", None),
            ("expired", Some(expired.as_str())),
            ("foreign key", Some(foreign.as_str())),
            ("empty sub", Some(nobody.as_str())),
            ("lifetime over 12 h", Some(forever.as_str())),
        ] {
            let r = call(&app, m.clone(), &url, token, body.clone()).await;
            let (status, _) = problem(r).await;
            assert_eq!(status, 401, "{method} {path} with {what}");
        }
        for role in [Role::Admin, Role::InventoryManager, Role::CustomerService] {
            let r = call(&app, m.clone(), &url, Some(&app.staff_token(role)), body.clone()).await;
            let status = r.status().as_u16();
            if roles.contains(&role) {
                assert!(!matches!(status, 401 | 403 | 405) && status < 500, "{method} {path} as {role:?}: {status}");
                if status == 404 {
                    let (_, p) = problem(r).await;
                    assert_ne!(p["detail"], "no such route", "{method} {path} is routed");
                }
            } else {
                assert_eq!(status, 403, "{method} {path} as {role:?}");
            }
        }
    }
}

/// The README's role table, as `STAFF_ROUTES` says it must read.
fn role_table() -> String {
    let name = |r: &Role| match r {
        Role::Admin => "admin",
        Role::InventoryManager => "inventory_manager",
        Role::CustomerService => "customer_service",
    };
    let mut out = String::from("| route | roles |\n|---|---|\n");
    for (method, path, roles) in STAFF_ROUTES {
        let roles: Vec<&str> = roles.iter().map(name).collect();
        out.push_str(&format!("| `{method} {path}` | {} |\n", roles.join(", ")));
    }
    out
}

#[test]
fn the_readme_shows_the_role_table_from_the_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find("<!-- roles:start -->\n").expect("README has <!-- roles:start -->") + 21;
    let end = readme.find("<!-- roles:end -->").expect("README has <!-- roles:end -->");
    let want = role_table();
    assert!(readme[start..end] == want, "README role table is stale; it should read:\n{want}");
}
