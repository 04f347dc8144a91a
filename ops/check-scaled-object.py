#!/usr/bin/env python3
"""Checks the KEDA ScaledObject in a rendered overlay, which kubernetes-validate has no schema for:
the fields KEDA requires, a target that exists in the same output, and a kafka trigger that names the
consumer group and topic the consumers really use."""
import manifest_check

REQUIRED_TRIGGER_FIELDS = {"bootstrapServers", "consumerGroup", "topic", "lagThreshold"}
CONSUMER_GROUP = "stratus-consumers"
TOPIC = "stratus.predictions"


def problems_in(docs: list[dict]) -> list[str]:
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
    return problems


if __name__ == "__main__":
    manifest_check.run(problems_in)
