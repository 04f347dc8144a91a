#!/usr/bin/env python3
"""Checks which pods hold which credentials in a rendered overlay, which schemas cannot tell:

- the CouchDB admin (Secret stratus-couchdb) is named by the CouchDB StatefulSet alone: no other
  workload mounts it, projects it, or takes one of its keys into its environment;
- a role's CouchDB user (Secret stratus-couchdb-<role>) is named only by that role's pods (label
  app.kubernetes.io/component) and by the CouchDB StatefulSet, whose keeper sets its password;
- CouchDB's TLS key (Secret stratus-couchdb-tls, the prod overlay) is named by the CouchDB StatefulSet
  alone, and no Stratus container there (the keeper) mounts it or takes it into its environment;
- Kafka's (the prod overlay): the super user's password (stratus-kafka-admin) is named only by the
  brokers' StatefulSet (their login to each other), the controllers' (which create the user) and the
  kafka-acls Job, which sets the other users; the brokers' TLS key
  (stratus-kafka-tls) by the brokers alone; a role's Kafka user (stratus-kafka-<role>) by that role's pods
  and the Job; KEDA's (stratus-kafka-keda, read by KEDA through a TriggerAuthentication) by the Job alone;
- in every pod that runs the Stratus image, each Secret volume (or projected Secret) lists its keys
  (items:), so a key added to a Secret later does not reach the pod unasked, and no container takes a
  whole Secret into its environment (envFrom); no Stratus container is given CouchDB's Erlang cookie.

Usage: check-secrets.py RENDERED.yaml   (exit 1 with one line per problem)"""

import manifest_check

ADMIN_SECRET = "stratus-couchdb"
ROLES = ("gateway", "consumer", "trainer")
ROLE_SECRETS = {f"{ADMIN_SECRET}-{role}": role for role in ROLES}
# CouchDB's certificate and private key: for the couchdb container only.
TLS_SECRET = f"{ADMIN_SECRET}-tls"
# The one workload that may hold the admin: CouchDB itself, and its keeper beside it.
COUCHDB = ("StatefulSet", "couchdb")
COMPONENT = "app.kubernetes.io/component"
# Kafka's Secrets, and the workloads that may name each (a role's user: also that role's pods).
KAFKA_BROKERS = ("StatefulSet", "kafka")
KAFKA_CONTROLLERS = ("StatefulSet", "kafka-controller")
KAFKA_JOB = ("Job", "kafka-acls")
KAFKA_SECRETS = {
    "stratus-kafka-admin": ("Kafka's super user", {KAFKA_BROKERS, KAFKA_CONTROLLERS, KAFKA_JOB}),
    "stratus-kafka-tls": ("the Kafka brokers' TLS key", {KAFKA_BROKERS}),
    "stratus-kafka-keda": ("KEDA's Kafka user", {KAFKA_JOB}),
    **{f"stratus-kafka-{role}": (f"the {role}'s Kafka user", {KAFKA_JOB}) for role in ROLES},
}


def pod_template(doc: dict) -> dict | None:
    """The pod a workload runs (its template), or the Pod itself; None for anything else."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind == "Pod":
        return doc
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return spec.get("template")
    return None


def containers(pod_spec: dict) -> list[dict]:
    return [c for key in ("initContainers", "containers", "ephemeralContainers") for c in pod_spec.get(key, []) or []]


def secret_sources(volume: dict) -> list[tuple[str, list | None]]:
    """The Secrets a volume holds, each with its items (None: every key)."""
    found = []
    if volume.get("secret"):
        found.append((volume["secret"].get("secretName"), volume["secret"].get("items")))
    for source in (volume.get("projected") or {}).get("sources", []) or []:
        if source.get("secret"):
            found.append((source["secret"].get("name"), source["secret"].get("items")))
    return found


def referenced(pod_spec: dict) -> set[str]:
    """Every Secret a pod names: volumes, projections, environment, image pull."""
    names = {name for v in pod_spec.get("volumes", []) or [] for name, _ in secret_sources(v)}
    names |= {s.get("name") for s in pod_spec.get("imagePullSecrets", []) or []}
    for c in containers(pod_spec):
        names |= {(e.get("valueFrom") or {}).get("secretKeyRef", {}).get("name") for e in c.get("env", []) or []}
        names |= {(s.get("secretRef") or {}).get("name") for s in c.get("envFrom", []) or []}
    return names - {None}


def problems_in(docs: list[dict]) -> list[str]:
    problems: list[str] = []
    for doc in docs:
        pod = pod_template(doc)
        if pod is None:
            continue
        owner = f"{doc['kind']}/{doc['metadata']['name']}"
        is_couchdb = (doc["kind"], doc["metadata"]["name"]) == COUCHDB
        spec = pod.get("spec") or {}
        component = ((pod.get("metadata") or {}).get("labels") or {}).get(COMPONENT)
        names = referenced(spec)

        if ADMIN_SECRET in names and not is_couchdb:
            problems.append(f"{owner}: references Secret {ADMIN_SECRET}, the CouchDB admin, which only StatefulSet/couchdb may hold")
        if TLS_SECRET in names and not is_couchdb:
            problems.append(f"{owner}: references Secret {TLS_SECRET}, CouchDB's TLS key, which only StatefulSet/couchdb may hold")
        for name in sorted(names & KAFKA_SECRETS.keys()):
            what, holders = KAFKA_SECRETS[name]
            role = name.removeprefix("stratus-kafka-")
            if (doc["kind"], doc["metadata"]["name"]) not in holders and not (role in ROLES and component == role):
                problems.append(f"{owner}: references Secret {name}, {what}, which it has no use for")
        for name in sorted(names & ROLE_SECRETS.keys()):
            if not is_couchdb and component != ROLE_SECRETS[name]:
                problems.append(f"{owner}: references Secret {name}, the {ROLE_SECRETS[name]}'s CouchDB user, but runs {component or 'no role'}")

        stratus = [c for c in containers(spec) if "stratus" in str(c.get("image"))]
        if not stratus:
            continue
        for volume in spec.get("volumes", []) or []:
            mounted_by_stratus = any(m.get("name") == volume.get("name") for c in stratus for m in c.get("volumeMounts", []) or [])
            for name, items in secret_sources(volume):
                if items is None:
                    problems.append(f"{owner}: volume {volume.get('name')} mounts every key of Secret {name}: list them in items")
                elif name == ADMIN_SECRET and mounted_by_stratus and any(i.get("key") not in ("username", "password") for i in items):
                    problems.append(f"{owner}: volume {volume.get('name')} gives a Stratus container keys of {ADMIN_SECRET} other than username and password")
                if name == TLS_SECRET and mounted_by_stratus:
                    problems.append(f"{owner}: volume {volume.get('name')} gives a Stratus container {TLS_SECRET}, CouchDB's TLS key")
        for c in containers(spec):
            for source in c.get("envFrom", []) or []:
                if source.get("secretRef"):
                    problems.append(f"{owner}: container {c.get('name')} takes every key of Secret {source['secretRef'].get('name')} into its environment")
        for c in stratus:
            for e in c.get("env", []) or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
                if ref.get("name") == ADMIN_SECRET and ref.get("key") not in ("username", "password"):
                    problems.append(f"{owner}: container {c.get('name')} takes {ADMIN_SECRET}'s {ref.get('key')} into its environment")
                if ref.get("name") == TLS_SECRET:
                    problems.append(f"{owner}: container {c.get('name')} takes {TLS_SECRET}'s {ref.get('key')} into its environment")

    return problems


if __name__ == "__main__":
    manifest_check.run(problems_in)
