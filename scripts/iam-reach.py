#!/usr/bin/env python3
"""Which AWS operations each Lambda function's code can reach: a rough static
call graph of shared/src (tests, testkit and adapters left out), from each
function's entry points to the port calls (records.get/put/update/delete/
query, Write::Put/Update/Delete/Check in transactions, files.list/move_file/
head/put/delete, fulfil_queue.send, events.send). Prints one call chain per
operation, so each grant in infra/template.yaml can be traced to code.

    scripts/iam-reach.py

Heuristic (name-based resolution, no macro or trait dispatch): it can miss a
path through a closure or a trait object, so check surprises by hand. Port
call -> IAM action: move_file = CopyObject (s3:GetObject on the source,
s3:PutObject on the destination) + DeleteObject; head = s3:GetObject; any S3
use needs s3:ListBucket so a missing key is 404, not 403.
"""
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

root = Path(__file__).resolve().parent.parent / "shared" / "src"
ROOTS = json.loads(r'''{
 "checkout": ["openapi_json@http/openapi/mod.rs","products@http/storefront.rs","checkout@http/storefront.rs","order@http/storefront.rs","entitlement@http/storefront.rs","report@http/usage.rs","seed@services/catalog.rs","backend@lambda/wiring.rs","client_ip_from_gateway@lambda/edge.rs"],
 "webhooks": ["nowpayments_route@http/webhooks.rs","stripe_route@http/webhooks.rs","backend@lambda/wiring.rs"],
 "admin": ["stock@http/admin/mod.rs","reconcile@http/admin/mod.rs","expire@http/admin/mod.rs","refund@http/admin/mod.rs","revoke@http/admin/mod.rs","delete_subscription@http/admin/mod.rs","ledger@http/admin/ledger.rs","adjust@http/admin/adjust.rs","history@http/usage.rs","remove_seat@http/usage.rs","view@http/credits.rs","gift@http/credits.rs","deactivate_gift@http/credits.rs","deactivate_order@http/credits.rs","post@http/credits.rs","staff_only@http/auth.rs","backend@lambda/wiring.rs"],
 "fulfil": ["fulfil_batch@lambda/fulfil.rs","backend@lambda/wiring.rs"],
 "expire": ["expire_job@services/sweeps.rs","backend@lambda/wiring.rs"],
 "reconcile": ["run@services/reconcile/mod.rs","backend@lambda/wiring.rs"],
 "credits": ["post_due@services/credits/job.rs","backend@lambda/wiring.rs"]
}
''')
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
    return out   # name -> [(file, modpath, body)]
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
if __name__ == '__main__':
    roots = ROOTS
    for fn, specs in roots.items():
        starts = [tuple(x.split('@')) for x in specs]
        for st in starts:
            if st not in graph: print('  MISSING ROOT', st)
        seen, sinks = reach(starts)
        print(f'== {fn}: {len(seen)} fns')
        for s, ks in sorted(sinks.items()):
            print(f'  {s:22} {len(ks):3}  {chain(seen, sorted(ks)[0])}')
