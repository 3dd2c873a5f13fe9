use axum::body::to_bytes;
use axum::http::StatusCode;

use super::*;

async fn text(resp: Response) -> String {
    let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn header<'a>(resp: &'a Response, name: &str) -> &'a str {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_are_revalidated() {
    for template in [SHOP_HTML, ACCOUNT_HTML, CONSOLE_HTML] {
        let resp = page(template, false);
        assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&resp, "cache-control"), "no-cache");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
        assert_eq!(header(&resp, "referrer-policy"), "no-referrer");
        let csp = header(&resp, "content-security-policy");
        assert!(csp.starts_with("default-src 'self'; script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
    }
}

#[tokio::test]
async fn the_sandbox_flag_and_asset_version_are_filled_in() {
    let off = text(page(SHOP_HTML, false)).await;
    let on = text(page(SHOP_HTML, true)).await;
    assert!(off.contains(r#"data-sandbox="off""#) && on.contains(r#"data-sandbox="on""#));
    assert!(!on.contains("{{"), "a placeholder is left: {on}");
    assert!(on.contains(&format!("/assets/shop.js?v={}", *VERSION)));
}

/// Every script and style a page names is served, and no script is inline
/// (the policy would block it, and the page would silently not work).
#[tokio::test]
async fn pages_name_only_served_assets_and_have_no_inline_script() {
    for template in [SHOP_HTML, ACCOUNT_HTML, CONSOLE_HTML] {
        let html = text(page(template, true)).await;
        let mut named = 0;
        for part in html.split("/assets/").skip(1) {
            let name = part.split('?').next().unwrap_or_default();
            let resp = asset(Path(name.to_string())).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(resp.status(), StatusCode::OK);
            named += 1;
        }
        assert!(named >= 3, "{html}");
        for tag in html.split("<script").skip(1) {
            let (open, rest) = tag.split_once('>').unwrap_or_default();
            assert!(open.contains("src=\"/assets/"), "inline script: <script{open}>");
            assert!(rest.starts_with("</script>"), "a script with a body: <script{open}>");
        }
        let lower = html.to_lowercase();
        for attr in [" onclick=", " onload=", " onsubmit=", " style=", "javascript:"] {
            assert!(!lower.contains(attr), "inline {attr} in a page");
        }
    }
}

#[tokio::test]
async fn assets_are_typed_cached_and_unknown_ones_are_404() {
    let js = asset(Path("shop.js".into())).await.unwrap();
    assert_eq!(header(&js, "content-type"), "text/javascript; charset=utf-8");
    assert!(header(&js, "cache-control").contains("immutable"));
    let css = asset(Path("style.css".into())).await.unwrap();
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
    for bad in ["../mod.rs", "shop.html", "", "SHOP.JS"] {
        let err = asset(Path(bad.into())).await.unwrap_err();
        assert_eq!(err.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[test]
fn a_qr_code_is_an_svg_of_rectangles_and_long_input_is_refused() {
    let svg = qr::render("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh").unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("#000000"), "{svg}");
    assert!(!svg.contains("<script") && !svg.contains("bc1q"), "the SVG holds only the drawing");
    assert_eq!(qr::render("").unwrap_err().status, StatusCode::BAD_REQUEST);
    assert_eq!(qr::render(&"x".repeat(257)).unwrap_err().status, StatusCode::BAD_REQUEST);
    assert!(qr::render(&"x".repeat(256)).is_ok());
}
