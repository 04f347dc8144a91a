#!/usr/bin/env python3
"""Checks who can reach what in a rendered overlay (issue #22), which schemas cannot tell:

- the Ingress routes none of the admin or metrics paths, and reaches no Service port that leads to a
  container's admin port (STRATUS_ADMIN_PORT) or metrics port (STRATUS_METRICS_PORT); every role sets
  both, so port 3000 serves neither; a Stratus container that runs a command rather than a role
  (CouchDB's keeper) declares no port;
- Prometheus's annotations and the monitoring namespace's policy name the metrics port and nothing else
  (not the admin port, whose API would then be one token away); the ingress controller's policy names
  neither;
- no egress ipBlock opens a range that is not the public internet (link-local 169.254/16 included);
- where a KEDA ScaledObject watches Kafka: its bootstrap servers are fully qualified names in the
  overlay's namespace, the brokers advertise such names too, and a policy lets namespace keda reach the
  brokers' client port;
- Kafka's controller listener takes no login (KRaft cannot check SCRAM there: its callers are
  User:ANONYMOUS, a super user once an authorizer is on), so every NetworkPolicy rule that admits its port
  admits Kafka's own pods and nothing else;
- where CouchDB serves TLS (its config, mounted or copied into local.d by an init container, enables
  [ssl], as the prod overlay's does): every Stratus container outside CouchDB's pod reaches it over
  https://, through a Service port that leads to the TLS port, with NODE_EXTRA_CA_CERTS naming a file of
  a volume it mounts; inside CouchDB's pod (the keeper, which logs in as the admin) it reaches CouchDB
  over loopback only; no Service port and no NetworkPolicy leads to CouchDB's plain HTTP port. Where
  CouchDB does not serve TLS, no Stratus container may ask it for https://.

Usage: check-exposure.py RENDERED.yaml   (exit 1 with one line per problem)"""
import configparser
import fnmatch
import ipaddress
import posixpath
import re
import shlex
from urllib.parse import urlsplit

import manifest_check

# Request paths the public must never reach: metrics, the dashboard, the admin endpoints (models, the
# feedback review). Publishing is POST /api/models, whose GET is public; an Ingress cannot tell methods
# apart, so that one is left to the gateway (405 on its public port) and checked here through
# STRATUS_ADMIN_PORT being set.
FORBIDDEN_PATHS = ["/metrics", "/models", "/models/", "/api/models/v1/serve", "/api/models/x", "/api/feedback", "/api/feedback/x/accept"]
MONITORING = "monitoring"
INGRESS_CONTROLLERS = {"ingress-nginx", "kube-system"}
KEDA_NAMESPACE = "keda"
KAFKA_CLIENT_PORT = 9092
# Where a Stratus container finds CouchDB, first found first (src/config.ts: the flag, then the variable,
# then its conventional fallback).
COUCHDB_URL_FLAG = "--couchdb-url"
COUCHDB_URL_VARS = ("STRATUS_COUCHDB_URL", "COUCHDB_URL")
# CouchDB reads its ini files from here (default.d, local.d); a ConfigMap mounted below it is its config,
# and so is one that an init container copies (cp) into an emptyDir mounted below it.
COUCHDB_ETC = "/opt/couchdb/etc/"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Every range that is not the public internet (RFC 6890's special-purpose registries, the parts a pod
# could reach), IPv4 and IPv6.
NOT_INTERNET = [ipaddress.ip_network(n) for n in [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8",
]]


def path_matches(rule_path: str, path_type: str, path: str) -> bool:
    """Whether an Ingress path rule takes `path`, as Kubernetes defines it; ImplementationSpecific is
    read as the widest reading (a plain string prefix), so the check errs towards a problem."""
    if path_type == "Exact":
        return path == rule_path
    if path_type == "Prefix":
        want = [p for p in rule_path.split("/") if p]
        have = [p for p in path.split("/") if p]
        return have[: len(want)] == want
    return path.startswith(rule_path)


def selects(selector: dict, labels: dict) -> bool:
    match = (selector or {}).get("matchLabels", {}) or {}
    return all(labels.get(k) == v for k, v in match.items())


def container_env(container: dict, config_maps: dict) -> dict:
    env = {}
    for source in container.get("envFrom", []) or []:
        env.update(config_maps.get((source.get("configMapRef") or {}).get("name"), {}))
    for entry in container.get("env", []) or []:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
    return env


def image_name(image: object) -> str:
    """An image reference's last path part, without tag or digest: "couchdb" for docker.io/couchdb:3.4.2."""
    name = str(image).split("@")[0].rsplit("/", 1)[-1]
    return name.split(":")[0]


def named_port(ports: dict, port: object) -> object:
    """A port as a number where a container declares that name, else as given."""
    return ports.get(port, port)


def config_map_files(source: dict, config_maps: dict) -> dict[str, str]:
    """The files a configMap volume shows, by path: its items, or every key when it lists none."""
    data = config_maps.get(source.get("name"), {})
    items = source.get("items")
    keys = {i["key"]: i.get("path", i["key"]) for i in items} if items else {k: k for k in data}
    return {p: data[k] for k, p in keys.items() if k in data}


def copied_config_files(pod_spec: dict, volume_name: str, config_maps: dict) -> dict[str, str]:
    """The ConfigMap files an init container copies into the emptyDir `volume_name`, by path inside it:
    a `cp` in its command whose source is a path below a ConfigMap it mounts (a glob such as *.ini picks
    the files it matches; the directory itself, every file) and whose target is where it mounts the
    emptyDir. Only what the script plainly says: a copy this cannot read counts as none."""
    volumes = {v.get("name"): v for v in pod_spec.get("volumes", []) or []}
    files: dict[str, str] = {}
    for init in pod_spec.get("initContainers", []) or []:
        mounts = [m for m in init.get("volumeMounts", []) or [] if not m.get("subPath") and not m.get("subPathExpr")]
        targets = [m["mountPath"] for m in mounts if m.get("name") == volume_name]
        script = " ".join(str(a) for a in (init.get("command", []) or []) + (init.get("args", []) or []))
        # Each simple command of the script (sh -c's argument among them), as the shell splits its words.
        for command in re.split(r"&&|\|\||[;|\n]", script):
            try:
                words = shlex.split(command)
            except ValueError:
                continue
            if "cp" not in words:
                continue
            words = [posixpath.normpath(w) for w in words[words.index("cp") + 1 :] if not w.startswith("-")]
            if len(words) < 2 or words[-1] not in {posixpath.normpath(t) for t in targets}:
                continue
            for mount in mounts:
                source = (volumes.get(mount.get("name")) or {}).get("configMap")
                if not source:
                    continue
                root = posixpath.normpath(mount["mountPath"])
                shown = config_map_files(source, config_maps)
                for word in words[:-1]:
                    if word == root:
                        files.update(shown)
                    elif word.startswith(root + "/"):
                        files.update({p: text for p, text in shown.items() if fnmatch.fnmatchcase(p, word[len(root) + 1 :])})
    return files


def couchdb_config(pod_spec: dict, container: dict, config_maps: dict) -> configparser.ConfigParser:
    """The settings CouchDB reads from the ConfigMap files its container mounts below /opt/couchdb/etc, or
    that an init container copies into an emptyDir it mounts there (copied_config_files), in the order it
    reads them (by path: local.d's files alphabetically). The image's own defaults are not in the
    manifests: a setting absent here has CouchDB's default."""
    volumes = {v.get("name"): v for v in pod_spec.get("volumes", []) or []}
    files: list[tuple[str, str]] = []
    for mount in container.get("volumeMounts", []) or []:
        path = mount.get("mountPath", "").rstrip("/")
        volume = volumes.get(mount.get("name")) or {}
        if not (path + "/").startswith(COUCHDB_ETC):
            continue
        if volume.get("configMap"):
            shown = config_map_files(volume["configMap"], config_maps)
        elif "emptyDir" in volume and not mount.get("subPath"):
            shown = copied_config_files(pod_spec, mount.get("name"), config_maps)
        else:
            continue
        if mount.get("subPath"):
            if mount["subPath"] in shown:
                files.append((path, shown[mount["subPath"]]))
        else:
            files.extend((f"{path}/{p}", text) for p, text in shown.items() if p.endswith(".ini"))
    config = configparser.ConfigParser(interpolation=None, strict=False, comment_prefixes=(";", "#"), inline_comment_prefixes=(";",))
    for _, text in sorted(files):
        config.read_string(text)
    return config


def couchdb_url(container: dict, config_maps: dict) -> tuple[str | None, str | None]:
    """The CouchDB URL a Stratus container uses and where it was found; (None, name) when that is a
    variable taken from a Secret or a field, which the manifests do not hold; (None, None) when none."""
    args = [str(a) for a in container.get("args", []) or []]
    for i, arg in enumerate(args):
        if arg.startswith(COUCHDB_URL_FLAG + "="):
            return arg.split("=", 1)[1], COUCHDB_URL_FLAG
        if arg == COUCHDB_URL_FLAG and i + 1 < len(args):
            return args[i + 1], COUCHDB_URL_FLAG
    env = container_env(container, config_maps)
    indirect = {e.get("name") for e in container.get("env", []) or [] if "valueFrom" in e}
    for name in COUCHDB_URL_VARS:
        if name in indirect:
            return None, name
        if name in env:
            return env[name], name
    return None, None


def mounted_file(path: str, container: dict, pod_spec: dict) -> bool:
    """Whether `path` is a file that one of the container's volume mounts provides: a subPath mount of it,
    or a path below a mount whose volume lists that path among its items (or lists none)."""
    volumes = {v.get("name"): v for v in pod_spec.get("volumes", []) or []}
    for mount in container.get("volumeMounts", []) or []:
        volume = volumes.get(mount.get("name"))
        if volume is None:
            continue
        root = mount.get("mountPath", "").rstrip("/")
        if mount.get("subPath"):
            if path == root:
                return True
            continue
        if not path.startswith(root + "/"):
            continue
        inner = path[len(root) + 1 :]
        if mount.get("subPathExpr"):
            return True
        sources = [volume[k] for k in ("secret", "configMap") if volume.get(k)]
        sources += [s.get("secret") or s.get("configMap") for s in (volume.get("projected") or {}).get("sources", []) or []]
        listed = [i.get("path") for s in sources if s for i in s.get("items") or []]
        if not sources or any(s is not None and not s.get("items") for s in sources) or inner in listed:
            return True
    return False


def couchdb_tls_problems(config_maps: dict, workloads: list[dict], services: dict, policies: list[dict]) -> list[str]:
    """Where CouchDB serves TLS, nothing outside its pod may use plain HTTP, and every Stratus container
    outside it must use and verify TLS. Taking effect from CouchDB's own rendered config, rather than from
    an overlay's name given by ops/validate, keeps the rule with the thing it is about: any overlay that
    turns [ssl] on is held to it, and one that turns it off cannot keep roles asking for https://."""
    problems: list[str] = []
    couchdbs = []
    for w in workloads:
        pod = w["spec"]["template"]
        for c in pod["spec"].get("containers", []) or []:
            if image_name(c.get("image")) != "couchdb":
                continue
            config = couchdb_config(pod["spec"], c, config_maps)
            couchdbs.append({
                "owner": f"{w['kind']}/{w['metadata']['name']}",
                "labels": pod["metadata"].get("labels", {}) or {},
                "ports": {p.get("name"): p["containerPort"] for p in c.get("ports", []) or []},
                "tls": config.getboolean("ssl", "enable", fallback=False),
                "plain": int(config.get("chttpd", "port", fallback="5984")),
                "secure": int(config.get("ssl", "port", fallback="6984")),
            })
    if not couchdbs:
        return problems
    tls = [db for db in couchdbs if db["tls"]]

    # Which URL each Stratus container uses; those in CouchDB's own pod (the keeper) stay on loopback.
    for w in workloads:
        pod = w["spec"]["template"]
        owner = f"{w['kind']}/{w['metadata']['name']}"
        in_couchdb_pod = any(image_name(c.get("image")) == "couchdb" for c in pod["spec"].get("containers", []) or [])
        for c in pod["spec"].get("containers", []) or []:
            if "stratus" not in str(c.get("image")):
                continue
            who = f"{owner}: container {c.get('name')}"
            url, source = couchdb_url(c, config_maps)
            if url is None:
                if source is not None and tls:
                    problems.append(f"{who} takes its CouchDB URL ({source}) from outside the manifests, so its scheme cannot be checked")
                continue
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            if parts.scheme == "https" and not tls:
                problems.append(f"{who} reaches CouchDB at {url}, but CouchDB here does not enable [ssl]")
                continue
            if not tls:
                continue
            if in_couchdb_pod:
                # The keeper logs in as the admin: over loopback, where plain HTTP never leaves the pod.
                if host not in LOOPBACK_HOSTS:
                    problems.append(f"{who} reaches CouchDB at {url}: inside CouchDB's pod, only over loopback")
                continue
            if parts.scheme != "https":
                problems.append(f"{who} reaches CouchDB at {url} ({source}), not https://, while CouchDB serves TLS")
                continue
            service = services.get(host.split(".")[0])
            if service is not None:
                port = parts.port or 443
                leads = [
                    named_port(db["ports"], p.get("targetPort", p["port"])) == db["secure"]
                    for db in tls if selects({"matchLabels": service["spec"].get("selector", {})}, db["labels"])
                    for p in service["spec"].get("ports", []) or [] if p["port"] == port
                ]
                if not any(leads):
                    problems.append(f"{who} reaches CouchDB at {url}, but no port {port} of Service/{service['metadata']['name']} leads to CouchDB's TLS port")
            ca = next((e for e in c.get("env", []) or [] if e.get("name") == "NODE_EXTRA_CA_CERTS"), None)
            if ca is None or "value" not in ca:
                problems.append(f"{who} reaches CouchDB over https:// without NODE_EXTRA_CA_CERTS, so it cannot verify CouchDB's certificate")
            elif not mounted_file(str(ca["value"]), c, pod["spec"]):
                problems.append(f"{who} has NODE_EXTRA_CA_CERTS={ca['value']}, which no volume it mounts provides")

    # Nothing leads to plain HTTP from outside the pod: no Service port, no policy rule.
    for db in tls:
        for name, svc in services.items():
            if not selects({"matchLabels": svc["spec"].get("selector", {})}, db["labels"]):
                continue
            for port in svc["spec"].get("ports", []) or []:
                if named_port(db["ports"], port.get("targetPort", port["port"])) == db["plain"]:
                    problems.append(f"Service/{name}: port {port.get('name', port['port'])} leads to {db['owner']}'s plain HTTP port {db['plain']}, while CouchDB serves TLS")
        for policy in policies:
            name = f"NetworkPolicy/{policy['metadata']['name']}"
            spec = policy["spec"]
            if selects(spec.get("podSelector"), db["labels"]):
                for rule in spec.get("ingress", []) or []:
                    # No ports, or an entry without a port, admits every port; endPort makes a range.
                    ports = [(named_port(db["ports"], p.get("port")), p.get("endPort")) for p in rule.get("ports", []) or []]
                    if not ports or any(start is None or start == db["plain"] or (end and isinstance(start, int) and start <= db["plain"] <= end) for start, end in ports):
                        problems.append(f"{name}: admits {db['owner']}'s plain HTTP port {db['plain']}, while CouchDB serves TLS")
            for rule in spec.get("egress", []) or []:
                to_couchdb = any(to.get("podSelector") is not None and selects(to["podSelector"], db["labels"]) for to in rule.get("to", []) or [])
                if to_couchdb and any(named_port(db["ports"], p.get("port")) == db["plain"] for p in rule.get("ports", []) or []):
                    problems.append(f"{name}: lets pods out to {db['owner']}'s plain HTTP port {db['plain']}, while CouchDB serves TLS")
    return problems


def kafka_controller_problems(config_maps: dict, workloads: list[dict], policies: list[dict]) -> list[str]:
    """Whoever reaches Kafka's controller port is User:ANONYMOUS, a super user where an authorizer is on:
    every ingress rule that admits that port (or every port) must name Kafka's own pods as its only
    sources, by their name label, in this namespace."""
    problems = []
    kafka = (w for w in workloads if w["kind"] == "StatefulSet" and (w["spec"]["template"]["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "kafka")
    for w in kafka:
        labels = w["spec"]["template"]["metadata"].get("labels", {}) or {}
        for c in w["spec"]["template"]["spec"]["containers"]:
            env = container_env(c, config_maps)
            names = set(env.get("KAFKA_CONTROLLER_LISTENER_NAMES", "").split(","))
            listeners = [entry.partition("://") for entry in env.get("KAFKA_LISTENERS", "").split(",")]
            ports = {int(address.rsplit(":", 1)[-1]) for name, _, address in listeners if name in names and address}
            declared = {p.get("name"): p["containerPort"] for p in c.get("ports", []) or []}
            for port in sorted(ports):
                for policy in policies:
                    spec = policy["spec"]
                    if "Ingress" not in (spec.get("policyTypes") or ["Ingress"]) or not selects(spec.get("podSelector"), labels):
                        continue
                    for rule in spec.get("ingress", []) or []:
                        admitted = [named_port(declared, p.get("port")) for p in rule.get("ports", []) or []]
                        if admitted and port not in admitted:
                            continue
                        sources = rule.get("from", []) or []
                        peers = [f for f in sources if set(f) == {"podSelector"} and not f["podSelector"].get("matchExpressions")
                                 and selects(f["podSelector"], labels) and "app.kubernetes.io/name" in (f["podSelector"].get("matchLabels") or {})]
                        if not sources or len(peers) < len(sources):
                            problems.append(f"NetworkPolicy/{policy['metadata']['name']}: admits others than Kafka's own pods to its controller port {port}, where every caller is a super user")
    return problems


def problems_in(docs: list[dict]) -> list[str]:
    problems: list[str] = []
    config_maps = {d["metadata"]["name"]: d.get("data", {}) or {} for d in docs if d["kind"] == "ConfigMap"}
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]

    # Each Stratus pod: its labels, container ports by name, the admin port it listens on.
    stratus = []
    for w in workloads:
        pod = w["spec"]["template"]
        for c in pod["spec"].get("containers", []):
            if "stratus" not in str(c.get("image")):
                continue
            env = container_env(c, config_maps)
            owner = f"{w['kind']}/{w['metadata']['name']}"
            args = [str(a) for a in c.get("args", []) or []]
            if args and not args[0].startswith("-"):
                # A command, not a role (`stratus couchdb keep`, CouchDB's keeper): it listens nowhere.
                if c.get("ports"):
                    problems.append(f"{owner}: container {c.get('name')} runs `{' '.join(args)}`, which serves nothing, yet declares ports")
                continue
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", []) or []}
            admin = env.get("STRATUS_ADMIN_PORT")
            if admin is None:
                problems.append(f"{owner}: STRATUS_ADMIN_PORT is not set, so /metrics and the admin API are on its public port")
                continue
            admin = int(admin)
            if str(admin) == str(env.get("STRATUS_PORT")):
                problems.append(f"{owner}: STRATUS_ADMIN_PORT is STRATUS_PORT")
            if admin not in ports.values():
                problems.append(f"{owner}: no container port declares the admin port {admin}")
            metrics = env.get("STRATUS_METRICS_PORT")
            if metrics is None:
                problems.append(f"{owner}: STRATUS_METRICS_PORT is not set, so /metrics shares the admin port with the admin API")
                metrics = admin
            metrics = int(metrics)
            if metrics != admin and metrics not in ports.values():
                problems.append(f"{owner}: no container port declares the metrics port {metrics}")
            annotations = pod.get("metadata", {}).get("annotations", {}) or {}
            if annotations.get("prometheus.io/scrape") == "true" and annotations.get("prometheus.io/port") != str(metrics):
                problems.append(f"{owner}: Prometheus scrapes port {annotations.get('prometheus.io/port')}, not the metrics port {metrics}")
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                port = ((c.get(probe) or {}).get("httpGet") or {}).get("port")
                if port is not None and ports.get(port, port) in (admin, metrics):
                    problems.append(f"{owner}: its {probe} is on the admin or metrics port, which serve no probe")
            stratus.append({"owner": owner, "labels": pod["metadata"].get("labels", {}), "ports": ports, "admin": admin, "metrics": metrics})
    admin_ports = {s["admin"] for s in stratus}
    metrics_ports = {s["metrics"] for s in stratus}

    # A Service port that leads to an admin port: nothing may route to it, so none may exist.
    for name, svc in services.items():
        for pod in (s for s in stratus if selects({"matchLabels": svc["spec"].get("selector", {})}, s["labels"])):
            for port in svc["spec"].get("ports", []):
                target = port.get("targetPort", port["port"])
                if pod["ports"].get(target, target) in (pod["admin"], pod["metrics"]):
                    problems.append(f"Service/{name}: port {port.get('name', port['port'])} leads to {pod['owner']}'s admin or metrics port")

    for ing in (d for d in docs if d["kind"] == "Ingress"):
        name = f"Ingress/{ing['metadata']['name']}"
        if ing["spec"].get("defaultBackend"):
            problems.append(f"{name}: a defaultBackend routes every path")
        for rule in ing["spec"].get("rules", []):
            for p in (rule.get("http") or {}).get("paths", []):
                backend = (p.get("backend") or {}).get("service")
                if backend is None:
                    problems.append(f"{name}: {p.get('path')} routes to something other than a Service")
                elif backend["name"] not in services:
                    problems.append(f"{name}: {p.get('path')} routes to Service {backend['name']}, which this overlay lacks")
                for forbidden in FORBIDDEN_PATHS:
                    if path_matches(p.get("path", "/"), p.get("pathType", "ImplementationSpecific"), forbidden):
                        problems.append(f"{name}: {p.get('pathType')} {p.get('path')} routes {forbidden}")

    for policy in policies:
        name = f"NetworkPolicy/{policy['metadata']['name']}"
        spec = policy["spec"]
        targets_stratus = [s for s in stratus if selects(spec.get("podSelector"), s["labels"])]
        for rule in spec.get("ingress", []) or []:
            if not targets_stratus:
                continue
            sources = {((f.get("namespaceSelector") or {}).get("matchLabels") or {}).get("kubernetes.io/metadata.name") for f in rule.get("from", []) or []}
            # A named port is each selected pod's port of that name.
            ports = {s["ports"].get(p.get("port"), p.get("port")) for p in rule.get("ports", []) or [] for s in targets_stratus}
            if MONITORING in sources and (not ports or ports - metrics_ports):
                problems.append(f"{name}: namespace {MONITORING} reaches {sorted(map(str, ports)) or 'every port'}, not only the metrics port")
            if sources & INGRESS_CONTROLLERS and (not ports or ports & (admin_ports | metrics_ports)):
                problems.append(f"{name}: the ingress controller reaches the admin or metrics port")
        for rule in spec.get("egress", []) or []:
            for to in rule.get("to", []) or []:
                block = to.get("ipBlock")
                if not block:
                    continue
                cidr = ipaddress.ip_network(block["cidr"])
                excepted = [ipaddress.ip_network(e) for e in block.get("except", []) or []]
                for private in NOT_INTERNET:
                    if private.version != cidr.version or not private.overlaps(cidr):
                        continue
                    if not any(private.subnet_of(e) for e in excepted if e.version == private.version):
                        problems.append(f"{name}: egress to {cidr} does not except {private}")

    for so in (d for d in docs if d["kind"] == "ScaledObject"):
        namespace = so["metadata"].get("namespace")
        for trigger in (t for t in so["spec"].get("triggers", []) if t.get("type") == "kafka"):
            for server in str(trigger.get("metadata", {}).get("bootstrapServers", "")).split(","):
                host = server.strip().rsplit(":", 1)[0]
                service = host.split(".")[-5] if host.count(".") >= 4 else None
                if not re.fullmatch(rf"([a-z0-9-]+\.)?[a-z0-9-]+\.{re.escape(str(namespace))}\.svc\.cluster\.local", host) or service not in services:
                    problems.append(f"ScaledObject/{so['metadata']['name']}: bootstrap server {server!r} is not a Service of namespace {namespace}, fully qualified")
        brokers = [w for w in workloads if w["kind"] == "StatefulSet" and w["metadata"]["name"] == "kafka"]
        for broker in brokers:
            for c in broker["spec"]["template"]["spec"]["containers"]:
                advertised = container_env(c, config_maps).get("KAFKA_ADVERTISED_LISTENERS", "")
                if not re.search(rf"\.(\$\(POD_NAMESPACE\)|{re.escape(str(namespace))})\.svc\.cluster\.local:", advertised):
                    problems.append(f"StatefulSet/kafka: advertised listeners {advertised!r} do not resolve from namespace {KEDA_NAMESPACE}")
        kafka_labels = brokers[0]["spec"]["template"]["metadata"]["labels"] if brokers else {}
        admitted = any(
            selects(p["spec"].get("podSelector"), kafka_labels)
            and any(
                any(((f.get("namespaceSelector") or {}).get("matchLabels") or {}).get("kubernetes.io/metadata.name") == KEDA_NAMESPACE for f in rule.get("from", []) or [])
                and any(port.get("port") == KAFKA_CLIENT_PORT for port in rule.get("ports", []) or [])
                for rule in p["spec"].get("ingress", []) or []
            )
            for p in policies
        )
        if not admitted:
            problems.append(f"ScaledObject/{so['metadata']['name']}: no NetworkPolicy lets namespace {KEDA_NAMESPACE} reach Kafka on {KAFKA_CLIENT_PORT}")

    problems += kafka_controller_problems(config_maps, workloads, policies)
    problems += couchdb_tls_problems(config_maps, workloads, services, policies)
    return problems


if __name__ == "__main__":
    manifest_check.run(problems_in)
