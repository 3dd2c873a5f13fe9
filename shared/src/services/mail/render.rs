//! Mail templates: plain text and HTML per mail under `shared/templates/mail/`,
//! compiled into the binary. The text template's `subject` block is the
//! subject line; the HTML is autoescaped (by its `.html` name).

use std::sync::OnceLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::json;

/// Every template file, by name. Each mail `x` has `x.txt` and `x.html`.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.txt", include_str!("../../../templates/mail/base.txt")),
    ("base.html", include_str!("../../../templates/mail/base.html")),
    ("payment_received.txt", include_str!("../../../templates/mail/payment_received.txt")),
    ("payment_received.html", include_str!("../../../templates/mail/payment_received.html")),
    ("partially_paid.txt", include_str!("../../../templates/mail/partially_paid.txt")),
    ("partially_paid.html", include_str!("../../../templates/mail/partially_paid.html")),
    ("delivered.txt", include_str!("../../../templates/mail/delivered.txt")),
    ("delivered.html", include_str!("../../../templates/mail/delivered.html")),
    ("order_link.txt", include_str!("../../../templates/mail/order_link.txt")),
    ("order_link.html", include_str!("../../../templates/mail/order_link.html")),
    ("sign_in.txt", include_str!("../../../templates/mail/sign_in.txt")),
    ("sign_in.html", include_str!("../../../templates/mail/sign_in.html")),
    ("expiring_soon.txt", include_str!("../../../templates/mail/expiring_soon.txt")),
    ("expiring_soon.html", include_str!("../../../templates/mail/expiring_soon.html")),
    ("grace_started.txt", include_str!("../../../templates/mail/grace_started.txt")),
    ("grace_started.html", include_str!("../../../templates/mail/grace_started.html")),
    ("ended.txt", include_str!("../../../templates/mail/ended.txt")),
    ("ended.html", include_str!("../../../templates/mail/ended.html")),
    ("file_replaced.txt", include_str!("../../../templates/mail/file_replaced.txt")),
    ("file_replaced.html", include_str!("../../../templates/mail/file_replaced.html")),
    ("stock_low.txt", include_str!("../../../templates/mail/stock_low.txt")),
    ("stock_low.html", include_str!("../../../templates/mail/stock_low.html")),
    ("sold_out.txt", include_str!("../../../templates/mail/sold_out.txt")),
    ("sold_out.html", include_str!("../../../templates/mail/sold_out.html")),
    ("backordered.txt", include_str!("../../../templates/mail/backordered.txt")),
    ("backordered.html", include_str!("../../../templates/mail/backordered.html")),
    ("ops_alert.txt", include_str!("../../../templates/mail/ops_alert.txt")),
    ("ops_alert.html", include_str!("../../../templates/mail/ops_alert.html")),
    ("file_lost.txt", include_str!("../../../templates/mail/file_lost.txt")),
    ("file_lost.html", include_str!("../../../templates/mail/file_lost.html")),
];

/// A mail's three parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn env() -> Result<&'static Environment<'static>, String> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(build).as_ref().map_err(Clone::clone)
}

fn build() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    // Block tags take their line with them, so the text reads as written.
    let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build().map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    // A missing field is an error when printed, not a blank in a mail;
    // `if x` and `x is defined` still work for optional ones.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.add_filter("when", when);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(env)
}

/// RFC 3339 as people read it ("3 Dec 2026, 22:19 UTC"); anything else as is.
fn when(value: String) -> String {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    OffsetDateTime::parse(&value, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&format).ok())
        .unwrap_or(value)
}

/// Renders mail `name` for an event's `data`, for `audience` ("buyer" or
/// "staff"). An error names the template and what was missing.
pub fn render(name: &str, data: &serde_json::Value, audience: &str) -> Result<Rendered, String> {
    let env = env()?;
    let fail = |e: minijinja::Error| format!("template {name}: {e:#}");
    let mut vars = match data {
        serde_json::Value::Object(map) => map.clone(),
        _ => return Err(format!("template {name}: the event's data is not an object")),
    };
    vars.insert("mail".into(), json!({"audience": audience}));
    let text_tmpl = env.get_template(&format!("{name}.txt")).map_err(fail)?;
    let mut captured = text_tmpl.render_captured(Value::from(Serde(&vars))).map_err(fail)?;
    let subject = captured.with_state_mut(|s| s.render_block("subject")).map_err(fail)?;
    // One line, whatever the data held.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = captured.into_output().trim().to_string() + "\n";
    vars.insert("mail".into(), json!({"audience": audience, "subject": subject}));
    let html =
        env.get_template(&format!("{name}.html")).map_err(fail)?.render(Value::from(Serde(&vars))).map_err(fail)?;
    Ok(Rendered { subject, text, html })
}
