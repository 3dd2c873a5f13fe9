"""Runs shared/tests/iam_moto.rs on a moto server that enforces IAM, each
Lambda function's steps signed by an IAM user whose only policy is that
function's role policy from infra/template.yaml. A permission the code needs
and the role lacks fails the test (AccessDenied), so the template cannot
drift from the code unseen.

    scripts/iam-moto.sh [TEMPLATE]      # the wrapper: venv, then this

How: moto starts open; this script creates a `setup` user (everything, for
the test's own setup) and one user per function with the role's policy,
resolved to the emulator's names; then it turns enforcement on (moto's
/moto-api/reset-auth: from then on every request must be signed by a known
key and allowed by its user's policy) and runs the test with the keys.

What moto can and cannot check (moto 5.2):
- SQS: per queue (the request's queue ARN): SendMessage to the wrong queue is denied.
- S3: per action and object ARN (HeadObject is GetObject, a copy is PutObject
  on the destination; the GetObject on a copy's source is not checked).
- DynamoDB: per action only; moto checks the resource "*", so the table and
  index ARNs are widened to "*" here. A transaction is checked as the action
  dynamodb:TransactWriteItems (not an IAM action on AWS, which checks each
  item's Put/Update/Delete/ConditionCheck): it is added to every statement
  that allows a write, so item actions inside transactions are not checked.
- SES: by action only, against "*" (the identity ARNs are widened to it here),
  and the ses:FromAddress condition is not evaluated (a wrong sender passes):
  the deliver role's SendEmail is checked, its sender limit is not.
- Conditions: only StringEquals is evaluated, so the dispatch role's
  dynamodb:LeadingKeys limits (ForAllValues:...) are not checked here; its
  stream grants (${Table.Arn}/stream/*) are widened to "*" with the table's.
  moto has no stream behind an event source mapping: the test builds the
  stream records from the outbox and hands them to the dispatcher's handler.
"""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

from cfn_yaml import CfnLoader  # scripts/cfn_yaml.py: short tags as long forms

root = Path(__file__).resolve().parent.parent
template = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "infra" / "template.yaml"

ACCOUNT = "123456789012"
REGION = "us-east-1"
NAME = "sr-iam"
# What the test creates (shared/tests/iam_moto.rs uses the same names).
TABLE, BUCKET, FULFIL_QUEUE, EVENTS_QUEUE = NAME, NAME, NAME, f"{NAME}-events"
# The template's MailFrom here (the test verifies it in moto's SES and sends as it).
MAIL_FROM = "shop@iam-moto.example"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "MailFrom": MAIL_FROM}

ARNS = {
    "Table.Arn": "*",  # moto authorises DynamoDB against "*" (see above)
    "Bucket.Arn": f"arn:aws:s3:::{BUCKET}",
    "FulfilmentQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{FULFIL_QUEUE}",
    "EventsQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{EVENTS_QUEUE}",
}


def resolve(value, resources):
    """A statement's Resource entry as the emulator's ARN."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        name, attr = value["Fn::GetAtt"]
        key = f"{name}.{attr}"
        if key in ARNS:
            return ARNS[key]
        kind = resources.get(name, {}).get("Type")
        # Log groups and other queues: resources the functions' code never calls.
        if kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        raise SystemExit(f"iam-moto: cannot resolve !GetAtt {key}")
    if "Fn::Sub" in value:
        text, local = value["Fn::Sub"], {}
        if isinstance(text, list):  # [template, {Name: value}]: the SES domain identity
            text, names = text
            local = {k: evaluate(v) for k, v in names.items()}
        for key, arn in {**PSEUDO, **local}.items():
            text = text.replace("${" + key + "}", arn)
        for key, arn in ARNS.items():
            text = text.replace("${" + key + "}", arn)
        if "${" in text:
            raise SystemExit(f"iam-moto: cannot resolve !Sub {value['Fn::Sub']}")
        # "*/index/gsi1": DynamoDB is authorised against "*" anyway; so is SES.
        return "*" if text.startswith("*/") or text.startswith("arn:aws:ses:") else text
    raise SystemExit(f"iam-moto: cannot resolve {value}")


def evaluate(value):
    """The few intrinsics a Sub's names use: !Select over !Split of !Ref MailFrom."""
    if isinstance(value, str):
        return value
    if "Ref" in value and value["Ref"] in PSEUDO:
        return PSEUDO[value["Ref"]]
    if "Fn::Split" in value:
        sep, text = value["Fn::Split"]
        return evaluate(text).split(sep)
    if "Fn::Select" in value:
        index, items = value["Fn::Select"]
        return evaluate(items)[int(index)]
    raise SystemExit(f"iam-moto: cannot evaluate {value}")


def as_list(x):
    return x if isinstance(x, list) else [x]


DDB_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}


def function_policies():
    tpl = yaml.load(template.read_text(), Loader=CfnLoader)
    resources = tpl["Resources"]
    out = {}
    for name, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        crate = Path(res["Properties"]["CodeUri"]).name
        role = res["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = []
        for policy in resources[role]["Properties"].get("Policies", []):
            # `!If [HasMailFrom, policy, !Ref AWS::NoValue]`: the stack with MailFrom set.
            if "Fn::If" in policy:
                policy = policy["Fn::If"][1]
            for s in as_list(policy["PolicyDocument"]["Statement"]):
                s = dict(s)
                s["Resource"] = sorted({resolve(r, resources) for r in as_list(s.get("Resource", []))})
                actions = as_list(s.get("Action", []))
                if DDB_WRITES & set(actions):
                    actions = actions + ["dynamodb:TransactWriteItems"]
                s["Action"] = actions
                if "Condition" in s:
                    s["Condition"] = {op: {k: evaluate(v) if isinstance(v, dict) else v for k, v in kv.items()}
                                      for op, kv in s["Condition"].items()}
                s.pop("Sid", None)
                statements.append(s)
        out[crate] = {"Version": "2012-10-17", "Statement": statements}
    return out


def main():
    from moto.server import ThreadedMotoServer
    import boto3

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id="open", aws_secret_access_key="open")
        users = {}
        policies = {"setup": {"Version": "2012-10-17",
                              "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}
        policies.update(function_policies())
        for user, doc in policies.items():
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName=user, PolicyDocument=json.dumps(doc))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            users[user] = {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
            if user != "setup":
                print(f"iam-moto: {user}: {json.dumps(doc['Statement'])}")
        # From here on every request is signed and authorised.
        req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req).read()

        settings = {
            "endpoint": endpoint, "region": REGION, "account": ACCOUNT, "table": TABLE, "bucket": BUCKET,
            "fulfil_queue": FULFIL_QUEUE, "events_queue": EVENTS_QUEUE, "mail_from": MAIL_FROM, "users": users,
        }
        path = root / ".moto" / "iam-moto.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(settings, indent=2))
        env = dict(os.environ, STOCKROOM_IAM_MOTO=str(path))
        # The test signs with the users' keys at this endpoint, nothing else.
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                  "AWS_ENDPOINT_URL"):
            env.pop(k, None)
        cmd = ["cargo", "test", "-p", "shared", "--features", "lambda,testkit", "--test", "iam_moto",
               "--", "--nocapture"]
        print("iam-moto:", " ".join(cmd), f"(moto at {endpoint}, IAM enforced, {template})", flush=True)
        return subprocess.call(cmd, cwd=root, env=env)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
