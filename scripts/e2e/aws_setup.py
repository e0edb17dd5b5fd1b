"""The stack's EventBridge bus, rules and SQS queues in moto, created from template.yaml's
own resource definitions (names, queue attributes, redrive policy, event patterns and
targets), so the run routes events exactly as the deployed stack would.

    python3 scripts/e2e/aws_setup.py http://127.0.0.1:PORT   # prints what it created
"""

from __future__ import annotations

import json
import sys

import boto3

from stack import ACCOUNT, REGION, Stack

QUEUE_ATTRIBUTES = {
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "RedrivePolicy",
}


def clients(endpoint: str):
    kw = dict(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return boto3.client("events", **kw), boto3.client("sqs", **kw)


def create(stack: Stack, endpoint: str) -> dict:
    """Creates every bus, queue and rule of the template; returns their names and URLs."""
    events, sqs = clients(endpoint)
    res = stack.resources
    made = {"buses": {}, "queues": {}, "rules": {}}

    for lid, r in res.items():
        if r.get("Type") == "AWS::Events::EventBus":
            name = stack.physical_name(lid)
            try:
                events.create_event_bus(Name=name)
            except events.exceptions.ResourceAlreadyExistsException:
                pass
            made["buses"][lid] = name

    # Queues: a dead-letter queue before the queue that redrives to it.
    pending = [lid for lid, r in res.items() if r.get("Type") == "AWS::SQS::Queue"]
    pending.sort(key=lambda lid: "RedrivePolicy" in (res[lid].get("Properties") or {}))
    for lid in pending:
        props = stack.resolve(res[lid].get("Properties") or {})
        attrs = {}
        for k, v in props.items():
            if k not in QUEUE_ATTRIBUTES:
                continue
            attrs[k] = json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v)
        name = stack.physical_name(lid)
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        made["queues"][lid] = {"name": name, "url": url, "arn": stack.get_att(lid, "Arn")}

    for lid, r in res.items():
        if r.get("Type") != "AWS::Events::Rule":
            continue
        props = stack.resolve(r.get("Properties") or {})
        name = stack.physical_name(lid)
        bus = props.get("EventBusName", "default")
        events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
            Description=props.get("Description", ""),
        )
        targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props.get("Targets", [])]
        if targets:
            out = events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
            if out.get("FailedEntryCount"):
                raise RuntimeError(f"put_targets {name}: {out}")
        made["rules"][lid] = {"name": name, "bus": bus, "targets": [t["Arn"] for t in targets]}
    return made


def queue_url(made: dict, lid: str) -> str:
    return made["queues"][lid]["url"]


if __name__ == "__main__":
    endpoint = sys.argv[1]
    print(json.dumps(create(Stack(values={"moto_endpoint": endpoint}), endpoint), indent=2))
    print(f"account {ACCOUNT}, region {REGION}")
