//! The module graph stays one-way: no import cycle between service modules
//! (or between the embedded adapter's files), and the scheduler is called by
//! nobody inside the services. Reads the sources; a new cycle fails here with
//! the modules that form it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("source dir").flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The unit a file belongs to: the first path component under `root`
/// (`fulfil/claim.rs` is `fulfil`), or its file stem at the top.
fn unit_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).expect("under root");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Test code may use anything: skip test files and trailing test modules.
fn production_code(file: &Path, text: &str) -> Option<String> {
    let name = file.file_name()?.to_string_lossy();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return None;
    }
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    Some(text[..end].to_string())
}

/// Names after `prefix` in `text`: `prefix name` and `prefix{a, b::c}`.
fn names_after(text: &str, prefix: &str, out: &mut BTreeSet<String>) {
    for (at, _) in text.match_indices(prefix) {
        let rest = &text[at + prefix.len()..];
        // `super::super::x` is read by its own prefix, not as `super::x`.
        if prefix == "super::" && (text[..at].ends_with("super::") || rest.starts_with("super::")) {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(inner.split(',').filter_map(|p| ident(p.trim())));
        } else if let Some(n) = ident(rest) {
            out.insert(n);
        }
    }
}

fn ident(s: &str) -> Option<String> {
    let n: String = s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!n.is_empty()).then_some(n)
}

/// Which unit uses which, for the modules directly under `dir`. Paths that
/// name a sibling: `crate::{dir}::x`, `super::x` from a top file,
/// `super::super::x` from a nested one.
fn graph(dir: &str) -> Graph {
    let root = src(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let units: BTreeSet<String> = files.iter().map(|f| unit_of(&root, f)).filter(|u| u != "mod").collect();
    let crate_path = format!("crate::{}::", dir.replace('/', "::"));
    let mut g: Graph = units.iter().map(|u| (u.clone(), BTreeSet::new())).collect();
    for f in &files {
        let unit = unit_of(&root, f);
        let text = std::fs::read_to_string(f).expect("readable source");
        let Some(code) = production_code(f, &text) else { continue };
        // A unit's mod.rs sits one level down but its `super` is the parent.
        let nested = f.parent() != Some(root.as_path()) && !f.ends_with("mod.rs");
        let mut named = BTreeSet::new();
        names_after(&code, &crate_path, &mut named);
        names_after(&code, if nested { "super::super::" } else { "super::" }, &mut named);
        if let Some(deps) = g.get_mut(&unit) {
            deps.extend(named.into_iter().filter(|n| units.contains(n) && *n != unit));
        }
    }
    g
}

/// Every strongly connected set of two or more units (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        for w in &t.g[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                t.low.entry(v).and_modify(|l| *l = (*l).min(lw));
            } else if t.stack.contains(&w) {
                let iw = t.index[w];
                t.low.entry(v).and_modify(|l| *l = (*l).min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let at = t.stack.iter().rposition(|x| *x == v).unwrap_or(0);
            let comp: Vec<String> = t.stack.drain(at..).map(str::to_string).collect();
            if comp.len() > 1 {
                t.found.push(comp);
            }
        }
    }
    let mut t = T { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.found
}

#[test]
fn service_modules_import_each_other_one_way() {
    let g = graph("services");
    assert!(g.len() > 20, "read the service modules: {:?}", g.keys());
    assert_eq!(cycles(&g), Vec::<Vec<String>>::new(), "service modules in an import cycle");
}

#[test]
fn nothing_in_the_services_calls_the_scheduler() {
    let callers: Vec<String> =
        graph("services").into_iter().filter(|(_, d)| d.contains("schedule")).map(|(m, _)| m).collect();
    assert!(callers.is_empty(), "only the edges (HTTP, Lambda, CLI) run the schedule: {callers:?}");
}

#[test]
fn the_embedded_adapter_files_import_one_way() {
    let g = graph("adapters/embedded");
    assert_eq!(cycles(&g), Vec::<Vec<String>>::new(), "embedded adapter files in an import cycle");
}

#[test]
fn the_checker_finds_a_cycle_when_there_is_one() {
    let mut g = Graph::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.into()).or_default().insert(b.into());
        g.entry(b.into()).or_default();
    }
    let found = cycles(&g);
    assert_eq!(found.len(), 1);
    let mut c = found[0].clone();
    c.sort();
    assert_eq!(c, ["a", "b", "c"]);
    let mut named = BTreeSet::new();
    names_after("use super::{keys, model::X};\nsuper::super::y; super::z::w", "super::", &mut named);
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["keys", "model", "z"]);
}
