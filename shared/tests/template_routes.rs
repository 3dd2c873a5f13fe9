//! The SAM template deploys what the code serves: every route of the API's
//! OpenAPI document (`infra/openapi.json`, except the local-only `/sandbox/*`)
//! is an `HttpApi` event of `infra/template.yaml` and the other way round,
//! and each event belongs to the function whose crate mounts the router that
//! serves that route (`shared/src/http/mod.rs`, `functions/*/src/main.rs`).
//!
//! A route added to a router (and so to the document) but not to the template
//! would deploy as a 404; this fails first. The template is read with a small
//! line reader (no YAML crate for one test): it knows the two shapes events
//! take there, `Properties: { ApiId: ..., Method: M, Path: P }` on one line or
//! `Method:` and `Path:` lines under `Properties:`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("shared/ has a parent").to_path_buf()
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// "METHOD /path" of every operation in the OpenAPI document, but `/sandbox/*`.
fn openapi_routes() -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_str(&read("infra/openapi.json")).expect("openapi.json is JSON");
    let paths = doc["paths"].as_object().expect("openapi.json has paths");
    let mut routes = BTreeSet::new();
    for (path, ops) in paths {
        if path == "/sandbox" || path.starts_with("/sandbox/") {
            continue;
        }
        for method in ops.as_object().expect("a path item is an object").keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"].contains(&method.as_str()) {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

/// One `HttpApi` event of the template.
#[derive(Debug)]
struct Event {
    function: String,
    code_uri: String,
    route: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `key: value` of a YAML line (quotes dropped), if it has that key.
fn value_of(line: &str, key: &str) -> Option<String> {
    let rest = line.trim().trim_start_matches("- ").strip_prefix(key)?.strip_prefix(':')?;
    Some(rest.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
}

/// `key: value` inside a one-line flow mapping `{ a: b, key: value }`.
fn flow_value(line: &str, key: &str) -> Option<String> {
    let inner = line.split_once('{')?.1.rsplit_once('}')?.0;
    inner.split(',').find_map(|pair| value_of(pair, key))
}

/// The `HttpApi` events of every `AWS::Serverless::Function`.
fn template_events() -> Vec<Event> {
    let text = read("infra/template.yaml");
    let lines: Vec<&str> = text.lines().collect();
    let mut events = Vec::new();
    let mut in_resources = false;
    let mut resource: Option<(String, bool, String)> = None; // name, is a function, CodeUri
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent(line) == 0 {
            in_resources = line.starts_with("Resources:");
            continue;
        }
        if !in_resources {
            continue;
        }
        if indent(line) == 2 {
            let name = line.trim().trim_end_matches(':').to_string();
            resource = Some((name, false, String::new()));
            continue;
        }
        let Some((name, is_fn, code_uri)) = resource.as_mut() else { continue };
        if indent(line) == 4 && value_of(line, "Type").as_deref() == Some("AWS::Serverless::Function") {
            *is_fn = true;
        }
        if indent(line) == 4 && line.trim() == "Properties:" {
            // CodeUri sits directly under the function's Properties.
            for l in &lines[i + 1..] {
                if indent(l) <= 4 && !l.trim().is_empty() {
                    break;
                }
                if indent(l) == 6
                    && let Some(v) = value_of(l, "CodeUri")
                {
                    *code_uri = v;
                }
            }
        }
        if *is_fn && value_of(line, "Type").as_deref() == Some("HttpApi") {
            let own = indent(line);
            let (mut method, mut path) = (None, None);
            for l in &lines[i + 1..] {
                if indent(l) < own && !l.trim().is_empty() {
                    break;
                }
                method = method.or_else(|| flow_value(l, "Method")).or_else(|| value_of(l, "Method"));
                path = path.or_else(|| flow_value(l, "Path")).or_else(|| value_of(l, "Path"));
            }
            let (Some(method), Some(path)) = (method, path) else {
                panic!("template.yaml line {}: an HttpApi event of {name} without Method and Path", i + 1)
            };
            events.push(Event {
                function: name.clone(),
                code_uri: code_uri.clone(),
                route: format!("{method} {path}"),
            });
        }
    }
    events
}

/// "METHOD /path" of each `pub fn *_routes` router in `shared/src/http/mod.rs`.
fn routers() -> BTreeMap<String, BTreeSet<String>> {
    let text = read("shared/src/http/mod.rs");
    let mut out = BTreeMap::new();
    for chunk in text.split("pub fn ").skip(1) {
        let Some(name) = chunk.split('(').next().filter(|n| n.ends_with("_routes")) else { continue };
        let body = &chunk[..chunk.find("\n}").unwrap_or(chunk.len())];
        let mut routes = BTreeSet::new();
        for call in body.split(".route(\"").skip(1) {
            let (path, rest) = call.split_once('"').expect("a quoted route path");
            // The method routers of this one `.route(...)` call, up to the next one.
            let rest = rest.split(".route").next().unwrap_or(rest);
            for method in ["get", "post", "put", "delete", "patch"] {
                if rest.contains(&format!("{method}(")) {
                    routes.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        out.insert(name.to_string(), routes);
    }
    out
}

#[test]
fn template_routes_are_the_openapi_routes() {
    let openapi = openapi_routes();
    assert!(openapi.len() > 10, "read too few routes from openapi.json: {openapi:?}");
    let events = template_events();
    let mut template = BTreeSet::new();
    for e in &events {
        assert!(template.insert(e.route.clone()), "{} is an HttpApi event twice ({})", e.route, e.function);
    }
    let missing: Vec<_> = openapi.difference(&template).collect();
    let extra: Vec<_> = template.difference(&openapi).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "infra/template.yaml HttpApi events differ from infra/openapi.json (sandbox aside):\n  \
         in openapi.json, not in the template: {missing:?}\n  in the template, not in openapi.json: {extra:?}"
    );
}

#[test]
fn template_routes_sit_on_the_functions_that_serve_them() {
    let routers = routers();
    assert!(routers.len() >= 3, "read too few routers from shared/src/http/mod.rs: {routers:?}");
    for e in template_events() {
        let crate_dir = e.code_uri.trim_start_matches("../");
        let main = read(&format!("{crate_dir}/src/main.rs"));
        let served: BTreeSet<&String> =
            routers.iter().filter(|(name, _)| main.contains(name.as_str())).flat_map(|(_, routes)| routes).collect();
        assert!(
            served.contains(&e.route),
            "{} is an event of {} ({crate_dir}), whose router does not serve it",
            e.route,
            e.function
        );
    }
}
