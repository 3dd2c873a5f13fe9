#!/usr/bin/env bash
# Lints the SAM stack: cfn-lint (0 errors), SAM's translator and cfn-lint on its
# output, plus the checks cfn-lint cannot make (project rules, names SAM
# accepts but AWS or SAM CLI would not).
#
#   scripts/lint-infra.sh             # from anywhere; exits non-zero on any failure
#   VENV=/path/to/venv scripts/lint-infra.sh
#
# Then checkov (CloudFormation checks): every failed check fails the lint
# unless the resource skips it in the template with a reason
# (Metadata: checkov: skip: [{id: CKV_..., comment: why}]).
#
# cfn-lint, checkov and python3 (with PyYAML, a dependency of cfn-lint) come
# from $VENV when it is set, else from PATH. scripts/venv.sh installs them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
template="$root/infra/template.yaml"

if [[ -n "${VENV:-}" && -x "$VENV/bin/cfn-lint" ]]; then
  cfn_lint="$VENV/bin/cfn-lint"
  checkov="$VENV/bin/checkov"
  python="$VENV/bin/python"
else
  cfn_lint="$(command -v cfn-lint || true)"
  checkov="$(command -v checkov || true)"
  python="$(command -v python3 || true)"
fi
if [[ -z "$cfn_lint" || -z "$python" || ! -x "$checkov" ]]; then
  echo "lint-infra: cfn-lint, checkov or python3 not found (set VENV, or run scripts/venv.sh)" >&2
  exit 2
fi

status=0

echo "== $("$cfn_lint" --version) infra/template.yaml"
if (cd "$root" && "$cfn_lint" infra/template.yaml); then
  echo "cfn-lint: clean"
else
  echo "cfn-lint: FAILED" >&2
  status=1
fi

# cfn-lint reads SAM resources with its own schemas; SAM's translator is what
# `sam deploy` runs, and it rejects more (an event property SAM does not
# know, a DeadLetterQueue Type it cannot use). Transform, then lint the result.
echo "== SAM transform (aws-sam-translator $("$python" -c 'import samtranslator; print(samtranslator.__version__)' 2>/dev/null || echo missing)) + cfn-lint of its output"
transformed="$(mktemp --suffix=.json)"
if "$python" - "$template" "$transformed" <<'PY' && "$cfn_lint" "$transformed"; then
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


tpl = yaml_parse(open(sys.argv[1]).read())
# sam build replaces each local CodeUri with the uploaded artifact's S3 URI.
for res in tpl.get("Resources", {}).values():
    if res.get("Type") == "AWS::Serverless::Function":
        res["Properties"]["CodeUri"] = "s3://artifact-bucket/function.zip"
try:
    out = transform(tpl, {}, NoManagedPolicies())
except InvalidDocumentException as e:
    for cause in e.causes:
        print(f"  FAIL SAM: {cause.message}")
    sys.exit(1)
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(f"SAM transform: {len(out['Resources'])} CloudFormation resources")
PY
  echo "SAM transform + cfn-lint: clean"
else
  echo "SAM transform + cfn-lint: FAILED" >&2
  status=1
fi
rm -f "$transformed"

echo "== project checks"
"$python" - "$root" "$template" <<'PY' || status=1
import re
import sys
from pathlib import Path

import yaml

root, template_path = Path(sys.argv[1]), Path(sys.argv[2])
template_dir = template_path.parent
sys.path.insert(0, str(root / "scripts"))
from cfn_yaml import CfnLoader  # noqa: E402 (scripts/cfn_yaml.py: short tags as long forms)

tpl = yaml.load(template_path.read_text(), Loader=CfnLoader)
resources = tpl.get("Resources", {})
# A role's policy under a condition (`!If [Cond, policy, !Ref AWS::NoValue]`)
# is checked as if the condition held: the stack as configured.
for res in resources.values():
    if res.get("Type") == "AWS::IAM::Role" and "Policies" in res.get("Properties", {}):
        res["Properties"]["Policies"] = [
            p["Fn::If"][1] if isinstance(p, dict) and "Fn::If" in p else p for p in res["Properties"]["Policies"]
        ]
params = tpl.get("Parameters", {})
globals_fn = tpl.get("Globals", {}).get("Function", {})

results = []  # (ok, message)


def check(ok, message):
    results.append((bool(ok), message))


def of_type(kind):
    return {k: v for k, v in resources.items() if v.get("Type") == kind}


def ref(x):
    return x.get("Ref") if isinstance(x, dict) else None


def getatt(x):
    return tuple(x["Fn::GetAtt"]) if isinstance(x, dict) and "Fn::GetAtt" in x else None


def as_list(x):
    return x if isinstance(x, list) else [x]


def fn_prop(fn, key, default=None):
    return fn.get("Properties", {}).get(key, globals_fn.get(key, default))


functions = of_type("AWS::Serverless::Function")
roles = of_type("AWS::IAM::Role")

# --- every function crate (except local) has a uniform function resource --
by_dir = {}
for name, fn in functions.items():
    code_uri = fn.get("Properties", {}).get("CodeUri")
    if isinstance(code_uri, str):
        by_dir[(template_dir / code_uri).resolve()] = name

crates = sorted(
    p.parent for p in (root / "functions").glob("*/Cargo.toml") if p.parent.name != "local"
)
for crate in crates:
    check(crate.resolve() in by_dir, f"functions/{crate.name} has an AWS::Serverless::Function (CodeUri)")

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: skip the binary-name check
    tomllib = None

for name, fn in functions.items():
    props = fn.get("Properties", {})
    meta = fn.get("Metadata", {})
    check(meta.get("BuildMethod") == "rust-cargolambda", f"{name}: Metadata.BuildMethod is rust-cargolambda")
    check(fn_prop(fn, "Runtime") == "provided.al2023", f"{name}: Runtime is provided.al2023")
    check(fn_prop(fn, "Architectures") == ["arm64"], f"{name}: Architectures is [arm64]")
    check(fn_prop(fn, "Handler") == "bootstrap", f"{name}: Handler is bootstrap")
    code_uri = props.get("CodeUri")
    crate = (template_dir / code_uri).resolve() if isinstance(code_uri, str) else None
    check(crate is not None and crate.parent == (root / "functions").resolve(),
          f"{name}: CodeUri is a crate directory under functions/")
    manifest = crate / "Cargo.toml" if crate else None
    if manifest is None or not manifest.exists():
        print(f"  warning: {name}: {code_uri} has no Cargo.toml yet (sam build will fail)")
    elif tomllib:
        cargo = tomllib.loads(manifest.read_text())
        bins = {cargo.get("package", {}).get("name")} | {b.get("name") for b in cargo.get("bin", [])}
        binary = meta.get("BuildProperties", {}).get("Binary")
        check(binary in bins if binary else len(bins) == 1,
              f"{name}: BuildProperties.Binary {binary!r} is a binary of {crate.name} {sorted(bins)}")
    # An explicit role: SAM then attaches no managed policies (which use Resource "*").
    check(getatt(props.get("Role")) and getatt(props["Role"])[0] in roles,
          f"{name}: has its own AWS::IAM::Role")
    check("Policies" not in props, f"{name}: no SAM Policies (permissions live in its role)")
    # Its logs go to its own log group, which its role may write to.
    group = ref(props.get("LoggingConfig", {}).get("LogGroup"))
    role_name = getatt(props.get("Role"))[0] if getatt(props.get("Role")) else None
    stmts = [s for p in roles.get(role_name, {}).get("Properties", {}).get("Policies", [])
             for s in as_list(p["PolicyDocument"]["Statement"])]
    check(group in resources and any(
        "logs:PutLogEvents" in as_list(s.get("Action")) and (group, "Arn") in map(getatt, as_list(s.get("Resource")))
        for s in stmts), f"{name}: logs to its own log group and its role may write there")

# --- IAM: only Allow what is named, on named resources ------------------------
full_wildcard = re.compile(r"^(\*|arn:[^:]*:[^:]*:[^:]*:[^:]*:\*)$")


def statements():
    for name, res in resources.items():
        props = res.get("Properties", {})
        kind = res.get("Type")
        docs = []
        if kind == "AWS::IAM::Role":
            check(not props.get("ManagedPolicyArns"), f"{name}: no managed policies")
            docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy",
                      "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            docs = [props.get("PolicyDocument", {})]
        for doc in docs:
            for s in as_list(doc.get("Statement", [])):
                yield name, s


n_allow = 0
for name, s in statements():
    if s.get("Effect") != "Allow":
        continue
    n_allow += 1
    sid = s.get("Sid", "?")
    check("NotAction" not in s and "NotResource" not in s, f"{name}/{sid}: no NotAction/NotResource in Allow")
    check(all(isinstance(a, str) and "*" not in a for a in as_list(s.get("Action", []))),
          f"{name}/{sid}: no '*' in Action")
    check(all(not (isinstance(r, str) and full_wildcard.match(r)) for r in as_list(s.get("Resource", []))),
          f"{name}/{sid}: no '*' Resource")
check(n_allow > 0, "IAM statements found")

# --- each role grants what its function's code can reach, and nothing else ------
# scripts/iam-reach.py follows each function's entry points (routers and jobs
# its main.rs mounts) to the port calls; each call needs these grants. Beyond
# them a role may only hold what the Lambda runtime itself uses: logs, the
# SQS event source's receive/delete, and sending to the function's DeadLetterQueue.
import importlib.util

spec = importlib.util.spec_from_file_location("iam_reach", root / "scripts" / "iam-reach.py")
iam_reach = importlib.util.module_from_spec(spec)
spec.loader.exec_module(iam_reach)

NEEDS = {
    "ddb:GetItem": [("dynamodb:GetItem", "Table")],
    "ddb:PutItem": [("dynamodb:PutItem", "Table")],
    "ddb:UpdateItem": [("dynamodb:UpdateItem", "Table")],
    "ddb:DeleteItem": [("dynamodb:DeleteItem", "Table")],
    "ddb:ConditionCheckItem": [("dynamodb:ConditionCheckItem", "Table")],
    "ddb:Query": [("dynamodb:Query", "Table")],
    # A missing key is 404 only with ListBucket; a move is Copy (Get + Put) + Delete.
    "s3:list": [("s3:ListBucket", "Bucket")],
    "s3:head": [("s3:GetObject", "Objects"), ("s3:ListBucket", "Bucket")],
    "s3:put": [("s3:PutObject", "Objects"), ("s3:ListBucket", "Bucket")],
    "s3:delete": [("s3:DeleteObject", "Objects"), ("s3:ListBucket", "Bucket")],
    "s3:move": [("s3:GetObject", "Objects"), ("s3:PutObject", "Objects"), ("s3:DeleteObject", "Objects"),
                ("s3:ListBucket", "Bucket")],
    "sqs:fulfil.send": [("sqs:SendMessage", "FulfilmentQueue")],
    "sqs:events.send": [("sqs:SendMessage", "EventsQueue")],
    "sqs:fulfil.other": [("sqs:ReceiveMessage", "FulfilmentQueue"), ("sqs:DeleteMessage", "FulfilmentQueue"),
                         ("sqs:GetQueueAttributes", "FulfilmentQueue")],
    "sqs:events.other": [("sqs:ReceiveMessage", "EventsQueue"), ("sqs:DeleteMessage", "EventsQueue"),
                         ("sqs:GetQueueAttributes", "EventsQueue")],
    # SES v2 SendEmail is authorised on the sender's identity (MailFrom's address or domain).
    "ses:send": [("ses:SendEmail", "MailIdentity")],
}


# What Lambda's DynamoDB event source needs on the stream (the managed
# AWSLambdaDynamoDBExecutionRole's actions).
STREAM_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams")


def label(resource):
    """What a statement's Resource names: Table, Bucket, Objects or a resource's name."""
    if getatt(resource):
        name = getatt(resource)[0]
        return {"Table": "Table", "Bucket": "Bucket"}.get(name, name)
    sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    if isinstance(sub, list) and sub:
        sub = sub[0]
    if isinstance(sub, str) and ":ses:" in sub and ":identity/" in sub:
        return "MailIdentity"
    if isinstance(sub, str):
        if sub.startswith("${Table.Arn}/index/"):
            return "Table"
        if sub.startswith("${Table.Arn}/stream/"):
            return "TableStream"
        if sub.startswith("${Bucket.Arn}/"):
            return "Objects"
    return str(resource)


for fname, fn in functions.items():
    props = fn.get("Properties", {})
    code_uri = props.get("CodeUri")
    crate = Path(code_uri).name if isinstance(code_uri, str) else None
    if not crate or not (root / "functions" / crate / "src" / "main.rs").exists():
        continue
    ops, unresolved = iam_reach.sinks_of(crate)
    check(not unresolved, f"{fname}: scripts/iam-reach.py resolves every entry point of functions/{crate} {unresolved}")
    needed = {}
    for op, path in ops.items():
        for grant in NEEDS.get(op, []):
            needed.setdefault(grant, path)
    role_name = getatt(props.get("Role"))
    granted = set()
    for pol in roles.get(role_name[0] if role_name else "", {}).get("Properties", {}).get("Policies", []):
        for st in as_list(pol["PolicyDocument"]["Statement"]):
            if st.get("Effect") != "Allow":
                continue
            for action in as_list(st.get("Action")):
                for res in as_list(st.get("Resource")):
                    granted.add((action, label(res)))
    runtime = {(a, l) for (a, l) in granted if a.startswith("logs:")}
    for ev in props.get("Events", {}).values():
        if ev.get("Type") == "SQS" and getatt(ev["Properties"].get("Queue")):
            q = getatt(ev["Properties"]["Queue"])[0]
            runtime |= {(a, q) for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")}
        # A stream's event source mapping reads the table's stream and sends
        # the records it gives up on to its OnFailure queue, with this role.
        if ev.get("Type") == "DynamoDB" and getatt(ev["Properties"].get("Stream")) == ("Table", "StreamArn"):
            runtime |= {(a, "TableStream") for a in STREAM_READ}
        on_failure = getatt(ev.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))
        if on_failure:
            runtime.add(("sqs:SendMessage", on_failure[0]))
    dlq = getatt(props.get("DeadLetterQueue", {}).get("TargetArn"))
    if dlq:
        runtime.add(("sqs:SendMessage", dlq[0]))
    for (action, what), path in sorted(needed.items()):
        check((action, what) in granted, f"{fname}: its role grants {action} on {what}, which its code calls: {path}")
    for action, what in sorted(granted - set(needed) - runtime):
        check(False, f"{fname}: role grants {action} on {what}, which no code path of functions/{crate} needs "
                     f"(scripts/iam-reach.py {crate})")

# --- queues: DLQ, visibility >= 6 x consumer timeout, alarm on DLQ depth -------
queues = of_type("AWS::SQS::Queue")
alarmed = {
    getatt(d.get("Value"))[0]
    for a in of_type("AWS::CloudWatch::Alarm").values()
    if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    for d in a["Properties"].get("Dimensions", [])
    if d.get("Name") == "QueueName" and getatt(d.get("Value"))
}
consumers = {}  # queue -> [function]
for fname, fn in functions.items():
    for ev in fn.get("Properties", {}).get("Events", {}).values():
        if ev.get("Type") == "SQS" and getatt(ev["Properties"].get("Queue")):
            consumers.setdefault(getatt(ev["Properties"]["Queue"])[0], []).append(fname)

for qname, q in queues.items():
    props = q.get("Properties", {})
    redrive = props.get("RedrivePolicy")
    if not redrive:
        continue
    dlq = getatt(redrive.get("deadLetterTargetArn"))
    check(dlq and dlq[0] in queues, f"{qname}: dead-letter queue exists in the stack")
    check(int(redrive.get("maxReceiveCount", 0)) == 5, f"{qname}: maxReceiveCount is 5")
    if dlq and dlq[0] in queues:
        check(dlq[0] in alarmed, f"{dlq[0]}: alarm on ApproximateNumberOfMessagesVisible")
        dlq_keep = int(queues[dlq[0]].get("Properties", {}).get("MessageRetentionPeriod", 345600))
        check(dlq_keep > int(props.get("MessageRetentionPeriod", 345600)),
              f"{qname}: DLQ keeps messages longer than the queue (expiry counts from first send)")
    visibility = int(props.get("VisibilityTimeout", 30))
    for fname in consumers.get(qname, []):
        timeout = int(fn_prop(functions[fname], "Timeout", 3))
        check(visibility >= 6 * timeout,
              f"{qname}: VisibilityTimeout {visibility} >= 6 x {fname} Timeout {timeout}")
for qname, fnames in consumers.items():
    for fname in fnames:
        ev = [e for e in functions[fname]["Properties"]["Events"].values() if e.get("Type") == "SQS"][0]
        check("ReportBatchItemFailures" in ev["Properties"].get("FunctionResponseTypes", []),
              f"{fname}: SQS event reports batch item failures")
        reserved = fn_prop(functions[fname], "ReservedConcurrentExecutions")
        most = ev["Properties"].get("ScalingConfig", {}).get("MaximumConcurrency")
        if reserved is not None and most is not None:
            # Below it, the poller's batches are throttled and come back later.
            check(int(reserved) >= int(most),
                  f"{fname}: ReservedConcurrentExecutions {reserved} >= MaximumConcurrency {most}")

# --- HTTP API: the routes of the OpenAPI document (no sandbox), valid keys ----
# infra/openapi.json is the routers' own document (a test keeps it current), so
# every route the code serves, but the local-only /sandbox/*, must be an
# HttpApi event, and every event a route of the document.
import json

openapi = json.loads((root / "infra" / "openapi.json").read_text())
http_methods = {"get", "put", "post", "delete", "patch", "head", "options"}
expected_routes = {
    f"{method.upper()} {path}"
    for path, ops in openapi.get("paths", {}).items()
    if not (path == "/sandbox" or path.startswith("/sandbox/"))
    for method in ops
    if method in http_methods
}
check(len(expected_routes) > 10, f"infra/openapi.json lists the API's routes ({len(expected_routes)})")
apis = of_type("AWS::Serverless::HttpApi")
path_re = re.compile(r"^(/([A-Za-z0-9._-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\}))+$")
routes = {}
for fname, fn in functions.items():
    http = [e["Properties"] for e in fn.get("Properties", {}).get("Events", {}).values()
            if e.get("Type") == "HttpApi"]
    for ev in http:
        key = f"{ev.get('Method')} {ev.get('Path')}"
        check(ref(ev.get("ApiId")) in apis, f"{fname} {key}: ApiId refers to the stack's HttpApi")
        check(ev.get("Method") in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"},
              f"{fname} {key}: method is an upper-case HTTP method")
        check(isinstance(ev.get("Path"), str) and path_re.match(ev["Path"]),
              f"{fname} {key}: path is well formed")
        check(key not in routes, f"{key}: only one function serves it")
        routes[key] = fname
    if http:
        timeout = int(fn_prop(fn, "Timeout", 3))
        check(timeout <= 29, f"{fname}: Timeout {timeout} fits API Gateway's 30 s")
check(set(routes) == expected_routes,
      "HttpApi events are exactly infra/openapi.json's routes but /sandbox/* (missing %s, extra %s)"
      % (sorted(expected_routes - set(routes)), sorted(set(routes) - expected_routes)))
for aname, api in apis.items():
    props = api.get("Properties", {})
    default = props.get("DefaultRouteSettings", {})
    check("ThrottlingRateLimit" in default and "ThrottlingBurstLimit" in default,
          f"{aname}: default route throttling (rate and burst)")
    route_settings = props.get("RouteSettings", {})
    for key in route_settings:
        check(key in routes, f"{aname}: RouteSettings key {key!r} is a route")
    for key in ("POST /checkout", "POST /webhooks/nowpayments", "POST /webhooks/stripe"):
        s = route_settings.get(key, {})
        check("ThrottlingRateLimit" in s and "ThrottlingBurstLimit" in s, f"{aname}: {key} has its own throttling")

# --- schedules: expressions EventBridge accepts --------------------------------
rate_re = re.compile(r"^rate\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\)$")
cron_re = re.compile(r"^cron\(\S+( \S+){5}\)$")
for fname, fn in functions.items():
    for ename, ev in fn.get("Properties", {}).get("Events", {}).items():
        if ev.get("Type") in ("Schedule", "ScheduleV2"):
            expr = ev["Properties"].get("ScheduleExpression", "")
            check(rate_re.match(expr) or cron_re.match(expr), f"{fname}/{ename}: schedule {expr!r} is valid")

# --- schedules: retried, with a dead-letter queue; failed runs kept too -------
def role_sends_to(fname, queue):
    role_name = getatt(functions[fname]["Properties"].get("Role"))
    stmts = [s for pol in roles.get(role_name[0] if role_name else "", {}).get("Properties", {}).get("Policies", [])
             for s in as_list(pol["PolicyDocument"]["Statement"])]
    return any(s.get("Effect") == "Allow" and "sqs:SendMessage" in as_list(s.get("Action"))
               and (queue, "Arn") in map(getatt, as_list(s.get("Resource"))) for s in stmts)


for fname, fn in functions.items():
    props = fn.get("Properties", {})
    scheduled = [(n, e) for n, e in props.get("Events", {}).items() if e.get("Type") in ("Schedule", "ScheduleV2")]
    for ename, ev in scheduled:
        ep = ev.get("Properties", {})
        retries = ep.get("RetryPolicy", {}).get("MaximumRetryAttempts", 0)
        check(isinstance(retries, int) and retries >= 1, f"{fname}/{ename}: RetryPolicy retries delivery (>= 1 attempt)")
        dlq = getatt(ep.get("DeadLetterConfig", {}).get("Arn"))
        check(dlq and dlq[0] in queues and dlq[0] in alarmed,
              f"{fname}/{ename}: DeadLetterConfig.Arn is a queue of the stack with a depth alarm")
    if scheduled:
        # Scheduler invokes asynchronously: a run that fails goes to the function's DLQ.
        dl = props.get("DeadLetterQueue", {})
        target = getatt(dl.get("TargetArn"))
        check(dl.get("Type") == "SQS" and target and target[0] in queues and target[0] in alarmed,
              f"{fname}: scheduled, so failed runs go to a DeadLetterQueue (SQS, in the stack, alarmed)")
        if target:
            check(role_sends_to(fname, target[0]), f"{fname}: its role may send to its dead-letter queue {target[0]}")

# --- stream consumers: report failures, give up into an alarmed queue ----------
tables = of_type("AWS::DynamoDB::Table")
for fname, fn in functions.items():
    for ename, ev in fn.get("Properties", {}).get("Events", {}).items():
        if ev.get("Type") != "DynamoDB":
            continue
        ep = ev.get("Properties", {})
        stream = getatt(ep.get("Stream"))
        check(stream and stream[0] in tables and stream[1] == "StreamArn"
              and "StreamViewType" in tables[stream[0]]["Properties"].get("StreamSpecification", {}),
              f"{fname}/{ename}: reads the stream of a table of the stack that has one")
        check("ReportBatchItemFailures" in ep.get("FunctionResponseTypes", []),
              f"{fname}/{ename}: FunctionResponseTypes has ReportBatchItemFailures")
        retries = ep.get("MaximumRetryAttempts")
        check(isinstance(retries, int) and 0 <= retries <= 10,
              f"{fname}/{ename}: MaximumRetryAttempts is bounded (the default retries until the record expires)")
        check(ep.get("FilterCriteria", {}).get("Filters"), f"{fname}/{ename}: FilterCriteria chooses its records")
        target = getatt(ep.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))
        check(ep.get("DestinationConfig", {}).get("OnFailure", {}).get("Type") == "SQS" and target
              and target[0] in queues and target[0] in alarmed,
              f"{fname}/{ename}: OnFailure destination is a queue of the stack with a depth alarm")
        if target:
            check(role_sends_to(fname, target[0]), f"{fname}: its role may send to its OnFailure queue {target[0]}")

# --- every function has an alarm on its Errors metric ----------------------------
errors_alarmed = {
    ref(d.get("Value"))
    for a in of_type("AWS::CloudWatch::Alarm").values()
    if a["Properties"].get("Namespace") == "AWS/Lambda" and a["Properties"].get("MetricName") == "Errors"
    for d in a["Properties"].get("Dimensions", [])
    if d.get("Name") == "FunctionName"
}
for fname in functions:
    check(fname in errors_alarmed, f"{fname}: a CloudWatch alarm on its Errors metric")

# --- a function that waits on a payment provider outlives the provider's deadline --
# The deadline is the code's own constant; a function calls providers when it
# is given a provider API key. The margin is for the storage calls around it.
PROVIDER_MARGIN = 5
live_rs = root / "shared" / "src" / "adapters" / "live" / "mod.rs"
m = re.search(r"pub const PROVIDER_DEADLINE: Duration = Duration::from_secs\((\d+)\);", live_rs.read_text())
check(m, f"{live_rs.relative_to(root)} defines PROVIDER_DEADLINE in whole seconds")
if m:
    deadline = int(m.group(1))
    provider_keys = {"NOWPAYMENTS_API_KEY", "STRIPE_SECRET_KEY"}
    global_env = set(globals_fn.get("Environment", {}).get("Variables", {}))
    for fname, fn in functions.items():
        env = global_env | set(fn.get("Properties", {}).get("Environment", {}).get("Variables", {}))
        if env & provider_keys:
            timeout = int(fn_prop(fn, "Timeout", 3))
            check(timeout >= deadline + PROVIDER_MARGIN,
                  f"{fname}: Timeout {timeout} >= provider deadline {deadline} s + {PROVIDER_MARGIN} s")

# --- secrets only from NoEcho parameters ----------------------------------------
secretish = re.compile(r"SECRET|TOKEN|_KEY$")
for fname, fn in [("Globals", {"Properties": globals_fn})] + list(functions.items()):
    env = fn.get("Properties", {}).get("Environment", {}).get("Variables", {})
    for var, value in env.items():
        if secretish.search(var):
            p = params.get(ref(value) or "", {})
            check(p.get("NoEcho") is True, f"{fname}: {var} comes from a NoEcho parameter")

# --- storage that a prod stack keeps ---------------------------------------------
for name, res in {**of_type("AWS::DynamoDB::Table"), **of_type("AWS::S3::Bucket")}.items():
    check(res.get("DeletionPolicy") == "Retain" and res.get("UpdateReplacePolicy") == "Retain",
          f"{name}: DeletionPolicy and UpdateReplacePolicy Retain")
for name, t in of_type("AWS::DynamoDB::Table").items():
    p = t["Properties"]
    check(p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True, f"{name}: PITR")
    check(p.get("SSESpecification", {}).get("SSEEnabled") is True, f"{name}: SSE")
    check(p.get("TimeToLiveSpecification", {}).get("AttributeName") == "ttl", f"{name}: TTL on ttl")
for name, b in of_type("AWS::S3::Bucket").items():
    p = b["Properties"]
    check(all(p.get("PublicAccessBlockConfiguration", {}).get(k) is True for k in
              ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")),
          f"{name}: all public access blocked")
    check(p.get("VersioningConfiguration", {}).get("Status") == "Enabled", f"{name}: versioned")
    check("BucketEncryption" in p, f"{name}: encrypted")
    tls = [s for bp in of_type("AWS::S3::BucketPolicy").values() if ref(bp["Properties"].get("Bucket")) == name
           for s in as_list(bp["Properties"]["PolicyDocument"]["Statement"])
           if s.get("Effect") == "Deny" and "aws:SecureTransport" in str(s.get("Condition"))]
    check(tls, f"{name}: bucket policy denies requests without TLS")

failed = [m for ok, m in results if not ok]
for m in failed:
    print(f"  FAIL {m}")
print(f"infra: {len(results) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
PY

echo "== checkov $("$checkov" --version) infra/template.yaml"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
# Its exit code only says "something failed"; the JSON says what, and what was skipped.
(cd "$root" && "$checkov" -f infra/template.yaml --framework cloudformation --skip-download -o json >"$report" 2>/dev/null) || true
"$python" - "$report" <<'PY' || status=1
import json
import sys

try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print("  FAIL checkov wrote no JSON report (run it by hand to see why)")
    sys.exit(1)
reports = report if isinstance(report, list) else [report]
failed, skipped, unexplained, passed = [], [], [], 0
for r in reports:
    results = r.get("results", {})
    passed += len(results.get("passed_checks", []))
    failed += results.get("failed_checks", [])
    for c in results.get("skipped_checks", []):
        skipped.append(c)
        comment = (c.get("check_result", {}).get("suppress_comment") or "").strip()
        if not comment or comment.lower() == "no comment provided":
            unexplained.append(c)
if not reports or not any("results" in r for r in reports):
    print("  FAIL checkov checked nothing")
    sys.exit(1)
for c in failed:
    print(f"  FAIL {c['check_id']} {c['resource']}: {c.get('check_name', '')}")
for c in unexplained:
    print(f"  FAIL {c['check_id']} {c['resource']}: skipped without a reason (comment)")
print(f"checkov: {passed} passed, {len(failed)} failed, {len(skipped)} skipped with a reason"
      + (f", {len(unexplained)} without" if unexplained else ""))
sys.exit(1 if failed or unexplained else 0)
PY

exit "$status"
