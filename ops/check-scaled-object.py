#!/usr/bin/env python3
"""Checks the KEDA ScaledObject in a rendered overlay, which kubernetes-validate has no schema for:
the fields KEDA requires, a target that exists in the same output, and a kafka trigger that names the
consumer group and topic the consumers really use. Each kafka trigger logs in through an authenticationRef
naming a TriggerAuthentication of the same output that gives a username, a password and, with TLS, a CA; and
its `sasl` and `tls` match what the brokers' listener on the bootstrap port asks for (their
KAFKA_LISTENERS, KAFKA_LISTENER_SECURITY_PROTOCOL_MAP and KAFKA_SASL_ENABLED_MECHANISMS).
ops/validate runs it on the prod overlay, the one that uses KEDA."""
import manifest_check

REQUIRED_TRIGGER_FIELDS = {"bootstrapServers", "consumerGroup", "topic", "lagThreshold"}
CONSUMER_GROUP = "stratus-consumers"
TOPIC = "stratus.predictions"
# KEDA's names for the SASL mechanisms (its Kafka scaler's `sasl`), and Kafka's.
KEDA_SASL = {"plaintext": "PLAIN", "scram_sha256": "SCRAM-SHA-256", "scram_sha512": "SCRAM-SHA-512"}


def broker_listener(docs: list[dict], port: str) -> tuple[str, set[str]] | None:
    """The security protocol of the Kafka StatefulSet's listener on `port`, and its SASL mechanisms; None
    when there is no such StatefulSet or listener."""
    for doc in docs:
        if doc["kind"] != "StatefulSet" or doc["metadata"]["name"] != "kafka":
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e.get("value", "") for e in container.get("env", []) or []}
            protocols = dict(pair.split(":", 1) for pair in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",") if ":" in pair)
            for listener in env.get("KAFKA_LISTENERS", "").split(","):
                name, _, address = listener.partition("://")
                if address.rsplit(":", 1)[-1] == port:
                    mechanisms = set(env.get("KAFKA_SASL_ENABLED_MECHANISMS", "GSSAPI").split(","))
                    return protocols.get(name, name), mechanisms
    return None


def auth_problems(name: str, trigger: dict, docs: list[dict]) -> list[str]:
    ref = trigger.get("authenticationRef") or {}
    kind = ref.get("kind", "TriggerAuthentication")
    auth = next((d for d in docs if d["kind"] == kind and d["metadata"]["name"] == ref.get("name")), None)
    if auth is None:
        return [f"{name}: kafka trigger has no authenticationRef naming a {kind} of this overlay (got {ref.get('name')!r})"]
    params = {t.get("parameter") for t in (auth.get("spec") or {}).get("secretTargetRef", []) or []}
    meta = trigger.get("metadata", {})
    problems = []
    for needed in ("username", "password"):
        if needed not in params:
            problems.append(f"{name}: {kind}/{ref['name']} gives no {needed}")
    tls = meta.get("tls") == "enable" or "tls" in params
    if tls and "ca" not in params:
        problems.append(f"{name}: TLS on, but {kind}/{ref['name']} gives no ca to check the brokers' certificate")
    servers = str(meta.get("bootstrapServers", "")).split(",")
    listener = broker_listener(docs, servers[0].strip().rsplit(":", 1)[-1])
    if listener is not None:
        protocol, mechanisms = listener
        if protocol.startswith("SASL_") and KEDA_SASL.get(str(meta.get("sasl"))) not in mechanisms:
            problems.append(f"{name}: the brokers ask for SASL {sorted(mechanisms)}, the trigger says sasl {meta.get('sasl')!r}")
        if protocol in ("SSL", "SASL_SSL") and not tls:
            problems.append(f"{name}: the brokers' listener is {protocol}, the trigger does not say tls: enable")
        if protocol in ("PLAINTEXT", "SSL") and meta.get("sasl") not in (None, "none"):
            problems.append(f"{name}: the brokers' listener is {protocol}, without SASL, the trigger says sasl {meta.get('sasl')!r}")
    return problems


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
            problems += auth_problems(name, trigger, docs)
    return problems


if __name__ == "__main__":
    manifest_check.run(problems_in)
