//! The event catalogue as OpenAPI 3.1 `webhooks` (utoipa has no field for
//! it, so it rides in the top-level extensions, which serialise flat): per
//! event type, the request a merchant endpoint receives. The data shapes
//! come from the `Event` enum itself, the examples from `events::examples`.

use serde_json::{Map, Value, json};
use utoipa::PartialSchema;

use crate::services::events::{Event, examples};

const ACCEPTED: &str = "Received. Any 2xx is delivered; anything else is retried with growing delays for at \
    least 3 days (the same `webhook-id` every time); 410 disables the endpoint; 429 with Retry-After waits.";

/// `webhooks`: event type -> path item with its `post`.
pub fn webhooks() -> Value {
    let schema = serde_json::to_value(Event::schema()).unwrap_or_default();
    let variants = schema["oneOf"].as_array().cloned().unwrap_or_default();
    let examples: Vec<Value> = examples().iter().filter_map(|e| serde_json::to_value(e).ok()).collect();
    let mut out = Map::new();
    for v in variants {
        let Some(kind) = v["properties"]["type"]["enum"][0].as_str() else { continue };
        let data = v["properties"]["data"].clone();
        let example = examples
            .iter()
            .find(|e| e["type"] == kind)
            .map(|e| json!({"type": kind, "timestamp": "2026-12-04T10:00:00.000Z", "data": e["data"]}));
        out.insert(kind.to_string(), json!({ "post": operation(kind, data, example) }));
    }
    Value::Object(out)
}

fn operation(kind: &str, data: Value, example: Option<Value>) -> Value {
    let body = json!({
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"type": "string", "const": kind},
            "timestamp": {"type": "string", "format": "date-time", "description": "When the change happened"},
            "data": data,
        },
    });
    let mut media = json!({ "schema": body });
    if let Some(e) = example {
        media["example"] = e;
    }
    json!({
        "tags": ["events"],
        "operationId": format!("event:{kind}"),
        "summary": kind,
        "description": data.get("description").cloned().unwrap_or(Value::Null),
        "parameters": headers(),
        "requestBody": {"required": true, "content": {"application/json": media}},
        "responses": {"2XX": {"description": ACCEPTED}},
    })
}

/// The Standard Webhooks headers.
fn headers() -> Value {
    let h = |name: &str, what: &str| json!({"name": name, "in": "header", "required": true, "schema": {"type": "string"}, "description": what});
    json!([
        h("webhook-id", "The event's id: the same on every attempt, so receivers can drop repeats"),
        h("webhook-timestamp", "This attempt's time, Unix seconds"),
        h(
            "webhook-signature",
            "`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the endpoint secret's decoded \
             bytes; space-separated when a rotated secret still signs",
        ),
    ])
}
