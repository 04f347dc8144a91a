#!/usr/bin/env python3
"""Checks the KEDA ScaledObject in a rendered overlay, which kubernetes-validate has no schema for:
the fields KEDA requires, a target that exists in the same output, and a kafka trigger that names the
consumer group and topic the consumers really use."""
import sys
import yaml

REQUIRED_TRIGGER_FIELDS = {"bootstrapServers", "consumerGroup", "topic", "lagThreshold"}
CONSUMER_GROUP = "stratus-consumers"
TOPIC = "stratus.predictions"


def main(path: str) -> int:
    docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
    deployments = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    problems = []
    for doc in (d for d in docs if d["kind"] == "ScaledObject"):
        name = doc["metadata"]["name"]
        spec = doc.get("spec", {})
        target = spec.get("scaleTargetRef", {}).get("name")
        if target not in deployments:
            problems.append(f"{name}: scaleTargetRef {target!r} is not a Deployment in this overlay")
        if not 0 < spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 0):
            problems.append(f"{name}: needs 0 < minReplicaCount <= maxReplicaCount")
        for trigger in spec.get("triggers", []):
            if trigger.get("type") != "kafka":
                continue
            meta = trigger.get("metadata", {})
            missing = REQUIRED_TRIGGER_FIELDS - meta.keys()
            if missing:
                problems.append(f"{name}: kafka trigger lacks {sorted(missing)}")
            if meta.get("consumerGroup") != CONSUMER_GROUP or meta.get("topic") != TOPIC:
                problems.append(f"{name}: trigger must watch group {CONSUMER_GROUP} on topic {TOPIC}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
