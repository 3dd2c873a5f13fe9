#!/usr/bin/env python3
"""Which AWS operations each Lambda function's code can reach: a rough static
call graph of shared/src (tests, testkit and adapters left out), from each
function's entry points to the port calls (records.get/put/update/delete/
query, Write::Put/Update/Delete/Check in transactions, files.list/move_file/
head/put/delete, fulfil_queue.send, events.send, mailer.send). Prints one call chain per
operation, so each grant in infra/template.yaml can be traced to code.

    scripts/iam-reach.py            # every function
    scripts/iam-reach.py fulfil     # one

Entry points come from the code: the routers a function's main.rs mounts
(their handlers, as listed in shared/src/http/mod.rs) and the `module::fn(`
calls in its main.rs (the job it runs, app_state's cold start).
scripts/lint-infra.sh imports this and compares with each role.

Heuristic (name-based resolution, no macro or trait dispatch): it can miss a
path through a closure or a trait object, so check surprises by hand. Port
call -> IAM action: move_file = CopyObject (s3:GetObject on the source,
s3:PutObject on the destination) + DeleteObject; head = s3:GetObject; any S3
use needs s3:ListBucket so a missing key is 404, not 403.
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

root = Path(__file__).resolve().parent.parent / "shared" / "src"
SKIP = re.compile(r'(tests?\.rs$|/testkit/|race_tests|/adapters/|/testing\.rs$)')
defs = defaultdict(list)
uses = {}
def parse_uses(src):
    out = {}
    for m in re.finditer(r'\buse\s+([^;]+);', src):
        u = re.sub(r'\s+', '', m.group(1))
        def walk(prefix, rest):
            if rest.startswith('{') or '::{' in rest:
                if '::{' in rest:
                    pre, inner = rest.split('::{', 1)
                    prefix = prefix + pre.split('::')
                else:
                    inner = rest[1:]
                inner = inner[:-1]
                depth = 0; cur = ''; parts = []
                for ch in inner:
                    if ch == ',' and depth == 0: parts.append(cur); cur=''; continue
                    if ch == '{': depth += 1
                    if ch == '}': depth -= 1
                    cur += ch
                if cur: parts.append(cur)
                for p in parts: walk(prefix, p)
            else:
                segs = prefix + rest.split('::')
                name = segs[-1].split(' as ')[0]
                if name == 'self': name = segs[-2]; segs = segs[:-1]
                out[name] = segs[:-1]
        walk([], u)
    return out
def strip_comments(s):
    s = re.sub(r'//[^\n]*', '', s)
    return s
def modpath(f):
    rel = f.relative_to(root).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] in ('mod','lib'): parts = parts[:-1]
    return parts
for f in root.rglob('*.rs'):
    if SKIP.search(str(f)): continue
    src = strip_comments(f.read_text())
    # drop #[cfg(test)] mod tests { ... }
    i = src.find('#[cfg(test)]\nmod tests {')
    if i >= 0: src = src[:i]
    for m in re.finditer(r'\bfn\s+([a-z_][a-z0-9_]*)\b[^{;]*\{', src):
        start = m.end()-1; depth = 0; j = start
        while j < len(src):
            if src[j] == '{': depth += 1
            elif src[j] == '}':
                depth -= 1
                if depth == 0: break
            j += 1
        sig = src[m.start():start]
        defs[m.group(1)].append((str(f.relative_to(root)), modpath(f), src[start:j+1], 'self' in sig.split('(',1)[1] if '(' in sig else False))
    uses[str(f.relative_to(root))] = parse_uses(src)
SINKS = {
 'ddb:GetItem': re.compile(r'records\s*\.\s*get\('),
 'ddb:PutItem': re.compile(r'records\s*\.\s*put\(|Write::Put\b'),
 'ddb:UpdateItem': re.compile(r'records\s*\.\s*update\(|Write::Update\b'),
 'ddb:DeleteItem': re.compile(r'records\s*\.\s*delete\(|Write::Delete\b'),
 'ddb:ConditionCheckItem': re.compile(r'Write::Check\b'),
 'ddb:Query': re.compile(r'records\s*\.\s*query\('),
 's3:list': re.compile(r'files\s*\.\s*list\('),
 's3:move': re.compile(r'files\s*\.\s*move_file\('),
 's3:put': re.compile(r'files\s*\.\s*put\('),
 's3:head': re.compile(r'files\s*\.\s*head\('),
 's3:delete': re.compile(r'files\s*\.\s*delete\('),
 'sqs:fulfil.send': re.compile(r'fulfil_queue\s*\.\s*send\('),
 'sqs:fulfil.other': re.compile(r'fulfil_queue\s*\.\s*(receive|delete|dead_letter_count)\('),
 'sqs:events.send': re.compile(r'events\s*\.\s*send\('),
 'sqs:events.other': re.compile(r'events\s*\.\s*(receive|delete|dead_letter_count)\('),
 'ses:send': re.compile(r'mailer\s*\.\s*send\('),
 'gateway': re.compile(r'\bgateway\s*\.'),
}
call_re = re.compile(r'((?:[A-Za-z_][A-Za-z0-9_]*::)*)([a-z_][a-z0-9_]*)\s*(?:::<[^>]*>)?\(')
meth_re = re.compile(r'\.([a-z_][a-z0-9_]*)\s*\(')
COMMON = set('new get put send list query update delete insert push map and_then ok err unwrap clone to_string into iter collect len is_empty await from min max format contains extend sort'.split())
def callees(body, myfile):
    out = set()
    u = uses.get(myfile, {})
    for m in call_re.finditer(body):
        if m.start() > 0 and body[m.start()-1] == '.': continue
        qual, name = m.group(1), m.group(2)
        if name not in defs: continue
        segs = [s for s in qual.split('::') if s and s not in ('super','crate','self','services','shared','Self')]
        if segs and segs[0] in u:
            segs = [x for x in u[segs[0]] if x not in ('super','crate','self','services','shared')] + segs
        cands = [d for d in defs[name] if not d[3] or qual.startswith('Self::')]
        if not segs:
            same = [d for d in cands if d[0] == myfile]
            if same: cands = same
            elif name in u:
                mod = [x for x in u[name] if x not in ('super','crate','self','services','shared')]
                cands = [d for d in cands if mod and (mod[-1] in d[1])]
            else:
                cands = []
        else:
            cands = [d for d in cands if segs[-1] in d[1]]
        for d in cands: out.add((name, d[0]))
    for m in meth_re.finditer(body):
        name = m.group(1)
        if name in defs and name not in COMMON:
            for d in defs[name]:
                if d[3]: out.add((name, d[0]))
    return out
graph = {}
direct = {}
for name, ds in defs.items():
    for d in ds:
        key = (name, d[0])
        graph[key] = callees(d[2], d[0])
        direct[key] = {k for k, r in SINKS.items() if r.search(d[2])}
def reach(starts):
    seen = {}; queue = [(s, None) for s in starts]; sinks = defaultdict(list)
    while queue:
        k, parent = queue.pop(0)
        if k in seen or k not in graph: continue
        seen[k] = parent
        for s in direct[k]: sinks[s].append(k)
        queue.extend((c, k) for c in graph[k])
    return seen, sinks
def chain(seen, k):
    out = []
    while k is not None:
        out.append(f'{k[1]}::{k[0]}'); k = seen[k]
    return ' <- '.join(out)
repo = root.parent.parent


def resolve(path, prefer=None):
    """`module::fn` (as written in Rust) -> the (fn, file) keys it can mean."""
    segs = path.split('::')
    name, mods = segs[-1], [m for m in segs[:-1] if m not in ('crate', 'self', 'super', 'shared')]
    cands = [d for d in defs.get(name, []) if not d[3] and all(m in d[1] for m in mods)]
    if prefer:
        preferred = [d for d in cands if d[1][:1] == [prefer]]
        cands = preferred or cands
    return [(name, d[0]) for d in cands]


def routers():
    """Handlers (module::fn, middleware included) of each `*_routes` router."""
    text = strip_comments((root / 'http' / 'mod.rs').read_text())
    out = {}
    for chunk in text.split('pub fn ')[1:]:
        name = chunk.split('(')[0]
        if not name.endswith('_routes'):
            continue
        body = chunk[:chunk.find('\n}')]
        handlers = re.findall(r'\b(?:get|post|put|delete|patch)\(([a-z_]+(?:::[a-z_]+)+)\)', body)
        handlers += re.findall(r'from_fn_with_state\([^,]+,\s*([a-z_]+(?:::[a-z_]+)+)\)', body)
        out[name] = handlers
    return out


def crates():
    return sorted(p.parent.parent.name for p in (repo / 'functions').glob('*/src/main.rs')
                  if p.parent.parent.name != 'local')


def roots(crate):
    """The entry points of functions/<crate>, and what could not be resolved."""
    main = strip_comments((repo / 'functions' / crate / 'src' / 'main.rs').read_text())
    starts, unresolved = set(), []
    for name, handlers in routers().items():
        if re.search(rf'\b{name}\b', main):
            for h in handlers:
                keys = resolve(h, prefer='http')
                starts.update(keys) if keys else unresolved.append(h)
    for m in re.finditer(r'\b([a-z_]+(?:::[a-z_]+)+)\s*\(', main):
        path = m.group(1)
        if path.split('::')[0] in ('lambda_http', 'lambda_runtime', 'tokio', 'anyhow', 'serde_json', 'std', 'axum'):
            continue
        keys = resolve(path, prefer='services')
        starts.update(keys) if keys else unresolved.append(path)
    return sorted(starts), unresolved


def sinks_of(crate):
    """{operation: call chain} the code of functions/<crate> can reach."""
    starts, unresolved = roots(crate)
    seen, sinks = reach(starts)
    return {s: chain(seen, sorted(ks)[0]) for s, ks in sinks.items()}, unresolved


if __name__ == '__main__':
    for crate in sys.argv[1:] or crates():
        ops, unresolved = sinks_of(crate)
        print(f'== {crate}')
        for u in unresolved:
            print(f'  UNRESOLVED entry point {u}')
        for op, path in sorted(ops.items()):
            print(f'  {op:22} {path}')
