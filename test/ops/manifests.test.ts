// The rendered Kubernetes manifests against the binary they deploy: every Stratus container's args and
// environment must be a configuration the binary accepts (`--check-config` for the roles, the same parser
// for CouchDB's keeper), every probe must hit a path the process serves on the port it probes, Prometheus
// must scrape the port that serves /metrics, and every role must run the one image. And
// ops/check-exposure.py and ops/check-secrets.py, which ops/validate runs on each overlay, must pass them
// and catch each way of exposing too much (issue #22) or handing a pod a credential it should not hold.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseCli } from '../../src/config.ts';
import { BROKER_LOSS_SETTINGS } from '../../ops/dev/kafka-node.ts';
import { KUSTOMIZE, renderOverlay, type Manifest } from '../helpers/kustomize.ts';
import { MAIN, REPO, freePort, runToEnd, startProcess, type Started } from '../helpers/process.ts';

interface Container {
  readonly owner: string;
  readonly name: string;
  /** A role (`--role …`), which listens and is probed; false for a command such as `couchdb keep`. */
  readonly serves: boolean;
  readonly image: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly probePaths: string[];
  /** The container ports the probes name, resolved to numbers. */
  readonly probePorts: number[];
  readonly ports: Record<string, number>;
  readonly annotations: Record<string, string>;
}

const OVERLAYS = readdirSync(join(REPO, 'ops/k8s/overlays'));
/** The Stratus containers of every workload, with the environment Kubernetes would give them. */
function stratusContainers(manifests: Manifest[]): Container[] {
  const configMaps = new Map(manifests.filter((m) => m.kind === 'ConfigMap').map((m) => [m.metadata.name, m.data ?? {}]));
  const found: Container[] = [];
  for (const m of manifests) {
    const pod = m.kind === 'Deployment' || m.kind === 'Job' || m.kind === 'StatefulSet' ? m.spec.template.spec : null;
    for (const c of pod?.containers ?? []) {
      if (!String(c.image).includes('stratus')) continue;
      const env: Record<string, string> = {};
      for (const source of c.envFrom ?? []) Object.assign(env, configMaps.get(source.configMapRef?.name) ?? {});
      // Secret values are not in the manifests; a stand-in as long as a real one must be takes their place.
      for (const e of c.env ?? []) env[e.name] = e.value ?? STAND_IN_SECRET;
      // A mounted Secret (or a projection of Secrets) becomes a directory of files, one per key or listed
      // item: stand one in where the env points to it, or to a file in it (a CA: STRATUS_KAFKA_CA_FILE).
      const secretVolumes = new Map<string, any>((pod.volumes ?? []).filter((v: any) => v.secret || v.projected).map((v: any) => [v.name, v]));
      for (const mount of c.volumeMounts ?? []) {
        const volume = secretVolumes.get(mount.name);
        if (volume === undefined) continue;
        const standIn = mountedSecretStandIn(volume);
        for (const [name, value] of Object.entries(env)) {
          if (value === mount.mountPath) env[name] = standIn;
          else if (value.startsWith(`${mount.mountPath}/`)) env[name] = join(standIn, value.slice(mount.mountPath.length + 1));
        }
      }
      const probes = [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean);
      const ports: Record<string, number> = Object.fromEntries((c.ports ?? []).map((p: any) => [p.name, p.containerPort]));
      const args: string[] = c.args ?? [];
      found.push({
        owner: `${m.kind}/${m.metadata.name}`,
        name: c.name,
        serves: args.length === 0 || args[0]!.startsWith('-'),
        image: c.image,
        args,
        env,
        probePaths: probes.map((p: any) => p.httpGet?.path).filter(Boolean),
        probePorts: probes.flatMap((p: any) => (p.httpGet?.port === undefined ? [] : [ports[p.httpGet.port] ?? Number(p.httpGet.port)])),
        ports,
        annotations: m.spec.template.metadata?.annotations ?? {},
      });
    }
  }
  return found;
}

/** Long enough for any secret the binary takes (32 characters at least), and plainly not a real one. */
const STAND_IN_SECRET = 'stand-in-secret-0123456789abcdef0123456789';

const standIns: string[] = [];
/** The files a Secret volume would show: its items' paths (subdirectories too), or every key of a
 * CouchDB Secret when it lists none. A `.crt` stands in as PEM, which is all --check-config asks of a CA. */
function mountedSecretStandIn(volume: any): string {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-secret-'));
  standIns.push(dir);
  const sources = volume.secret ? [volume.secret] : (volume.projected.sources ?? []).map((s: any) => s.secret).filter(Boolean);
  const paths: string[] = sources.flatMap((s: any) => (s.items ? s.items.map((i: any) => i.path) : ['username', 'password', 'cookie']));
  for (const path of paths) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), path.endsWith('.crt') ? '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n' : `stand-in-${basename(path)}`);
  }
  return dir;
}

if (KUSTOMIZE === null) {
  // CI installs the tools (STRATUS_REQUIRE_OPS_TOOLS=1): there a missing one is a failure, not a skip.
  if (process.env.STRATUS_REQUIRE_OPS_TOOLS === '1') throw new Error('neither kubectl nor kustomize is installed');
  console.warn('SKIPPED: the ops/k8s tests of test/ops/manifests.test.ts need kubectl or kustomize to render the overlays (the compose.yaml and --check-config tests still run)');
}

// ops/check-exposure.py is Python, as ops/validate runs it; CI has both.
const exposureCheckRuns = KUSTOMIZE !== null && Bun.spawnSync(['python3', '-c', 'import yaml']).exitCode === 0;
if (KUSTOMIZE !== null && !exposureCheckRuns && process.env.STRATUS_REQUIRE_OPS_TOOLS === '1') throw new Error('python3 with PyYAML is not installed');

describe.skipIf(KUSTOMIZE === null)('Kubernetes manifests', () => {
  let running: Started;
  let adminUrl: string;
  let metricsUrl: string;
  beforeAll(async () => {
    // --store memory, not the default pouchdb in ./stratus-data: the same probe paths, no directory left
    // behind. With an admin port and a metrics port, as every Stratus container has them.
    const [adminPort, metricsPort] = [freePort(), freePort()];
    adminUrl = `http://127.0.0.1:${adminPort}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    running = await startProcess(['bun', MAIN], ['--store', 'memory', '--admin-port', String(adminPort), '--metrics-port', String(metricsPort)]);
  }, 30_000);
  afterAll(async () => {
    running?.proc.kill('SIGTERM');
    await running?.proc.exited;
    for (const dir of standIns) rmSync(dir, { recursive: true, force: true });
  });

  for (const overlay of OVERLAYS) {
    test(`${overlay}: every Stratus container's args and environment pass --check-config`, async () => {
      const containers = stratusContainers(await renderOverlay(overlay));
      const roles = containers.filter((c) => c.serves);
      expect(roles.map((c) => c.owner).sort()).toEqual(['Deployment/stratus-consumer', 'Deployment/stratus-gateway', 'Job/stratus-trainer']);
      // CouchDB's keeper, beside CouchDB in its pod. Its --check-config, like a role's, does not read the
      // mounted directories; the binary's parser run here does: the admin's directory and a user for each
      // of the three roles must be found where the manifest points.
      const keepers = containers.filter((c) => !c.serves);
      expect(keepers.map((c) => [c.owner, c.name, c.args])).toEqual([['StatefulSet/couchdb', 'keeper', ['couchdb', 'keep']]]);
      for (const c of keepers) {
        const action = parseCli(c.args, c.env);
        expect(action.kind).toBe('couchdb-keep');
        if (action.kind !== 'couchdb-keep') continue;
        expect([...action.users.keys()].sort()).toEqual(['consumer', 'gateway', 'trainer']);
        expect(action.config.couchdbUrl).toBe('http://127.0.0.1:5984');
        expect(action.config.couchdbCredentials?.username).toBe('stand-in-username');
        expect(action.config.couchdbGatewayPublishes).toBe(true);
      }
      for (const c of roles) {
        const proc = Bun.spawn(['bun', MAIN, ...c.args, '--check-config'], { cwd: REPO, env: { PATH: process.env.PATH, ...c.env }, stdout: 'pipe', stderr: 'pipe' });
        const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
        expect({ owner: c.owner, code, stderr }).toEqual({ owner: c.owner, code: 0, stderr: '' });
      }
    }, 60_000);

    test(`${overlay}: all roles run one image`, async () => {
      const images = new Set(stratusContainers(await renderOverlay(overlay)).map((c) => c.image));
      expect(images.size).toBe(1);
    }, 30_000);

    test(`${overlay}: every probe path is served, on the port the probe names`, async () => {
      const containers = stratusContainers(await renderOverlay(overlay)).filter((c) => c.serves);
      const paths = new Set(containers.flatMap((c) => c.probePaths));
      expect(paths.size).toBeGreaterThan(0);
      for (const path of paths) {
        const response = await fetch(`${running.url}${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 200 });
      }
      // Probes are served on STRATUS_PORT only: one on the admin port would fail.
      for (const c of containers) for (const port of c.probePorts) expect({ owner: c.owner, port }).toEqual({ owner: c.owner, port: Number(c.env.STRATUS_PORT) });
    }, 30_000);

    test(`${overlay}: Prometheus scrapes the metrics port, where /metrics alone is served, not the admin or public one`, async () => {
      for (const c of stratusContainers(await renderOverlay(overlay)).filter((c) => c.serves)) {
        const [admin, metrics] = [Number(c.env.STRATUS_ADMIN_PORT), Number(c.env.STRATUS_METRICS_PORT)];
        const distinct = new Set([admin, metrics, Number(c.env.STRATUS_PORT)]).size === 3;
        expect({ owner: c.owner, ports: Number.isInteger(admin) && Number.isInteger(metrics) && distinct }).toEqual({ owner: c.owner, ports: true });
        expect({ owner: c.owner, scrape: c.annotations['prometheus.io/port'], declared: Object.values(c.ports).includes(metrics) }).toEqual({
          owner: c.owner,
          scrape: String(metrics),
          declared: true,
        });
      }
      expect((await fetch(`${metricsUrl}/metrics`)).status).toBe(200);
      for (const base of [adminUrl, running.url]) expect((await fetch(`${base}/metrics`)).status).toBe(404);
    }, 30_000);

    test.skipIf(!exposureCheckRuns)(`${overlay}: ops/check-exposure.py passes it`, async () => {
      expect(await checkExposure(await renderOverlay(overlay))).toEqual({ code: 0, problems: [] });
    }, 30_000);

    test.skipIf(!exposureCheckRuns)(`${overlay}: ops/check-secrets.py passes it`, async () => {
      expect(await checkSecrets(await renderOverlay(overlay))).toEqual({ code: 0, problems: [] });
    }, 30_000);

    // The CouchDB image's entrypoint chowns all of /opt/couchdb as root under `set -e`: a file it cannot
    // chown, as on a read-only mount, ends it (exit 1, no log line). ConfigMap, Secret and projected
    // volumes are read-only whatever the mount says; so the config is copied into an emptyDir instead.
    // And the probes ask /_up without a login, which require_valid_user alone would answer with 401.
    test(`${overlay}: CouchDB's config is copied into a writable local.d, nothing read-only lies under /opt/couchdb, and /_up needs no login`, async () => {
      const manifests = await renderOverlay(overlay);
      const statefulSet = manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === 'couchdb')!;
      const pod = statefulSet.spec.template.spec;
      const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
      const claims = new Set(statefulSet.spec.volumeClaimTemplates.map((c: any) => c.metadata.name));
      const couchdb = pod.containers.find((c: any) => c.name === 'couchdb');
      const underOpt = (path: string) => `${path}/`.startsWith('/opt/couchdb/');
      const writable = (mount: any) => !mount.readOnly && (claims.has(mount.name) || volumes.get(mount.name)?.emptyDir !== undefined);
      const mounts = couchdb.volumeMounts.filter((m: any) => underOpt(m.mountPath)).sort((a: any, b: any) => a.mountPath.localeCompare(b.mountPath));
      expect(mounts.map((m: any) => ({ path: m.mountPath, writable: writable(m) }))).toEqual([
        { path: '/opt/couchdb/data', writable: true },
        { path: '/opt/couchdb/etc/local.d', writable: true },
      ]);
      expect(claims.has(mounts[0].name)).toBe(true);

      // One init container, CouchDB's own image, fills that emptyDir: it mounts the ConfigMap read-only
      // outside /opt/couchdb, the whole of it (an overlay's tls.ini too), and copies every .ini into local.d.
      const localD = mounts[1];
      const copiers = (pod.initContainers ?? []).filter((c: any) => (c.volumeMounts ?? []).some((m: any) => m.name === localD.name));
      expect(copiers.map((c: any) => c.image)).toEqual([couchdb.image]);
      const copier = copiers[0];
      const configMount = copier.volumeMounts.find((m: any) => volumes.get(m.name)?.configMap?.name === 'couchdb-config');
      expect({ readOnly: configMount.readOnly, underOpt: underOpt(configMount.mountPath), items: volumes.get(configMount.name).configMap.items }).toEqual({
        readOnly: true,
        underOpt: false,
        items: undefined,
      });
      const target = copier.volumeMounts.find((m: any) => m.name === localD.name).mountPath;
      expect(target).toBe('/opt/couchdb/etc/local.d');
      const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const script = [...(copier.command ?? []), ...(copier.args ?? [])].join(' ');
      expect(script).toMatch(new RegExp(`(^|[\\s;&|])cp ${escape(configMount.mountPath)}/\\*\\.ini ${escape(target)}/?($|[\\s;&|])`));
      expect(copier.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 5984,
        runAsGroup: 5984,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });

      // Logins everywhere but /_up, which is all the probes ask.
      const ini = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'couchdb-config')!.data!['stratus.ini']!;
      const chttpd = ini.split(/^(?=\[)/m).find((section) => section.startsWith('[chttpd]\n'));
      expect(chttpd).toMatch(/^require_valid_user = true$/m);
      expect(chttpd).toMatch(/^require_valid_user_except_for_up = true$/m);
      expect([couchdb.readinessProbe, couchdb.livenessProbe].map((p: any) => [p.httpGet.path, p.httpGet.httpHeaders])).toEqual([
        ['/_up', undefined],
        ['/_up', undefined],
      ]);
    }, 30_000);
  }

  // Kafka's metadata quorum is three controllers of their own (base/kafka.yaml says why). A voter named
  // wrong (an id its pod does not get, a name no Service resolves) would leave a real cluster without a
  // quorum, which no schema or dry run catches; so the names are derived here from the StatefulSets.
  for (const overlay of OVERLAYS) {
    test(`${overlay}: Kafka's brokers and controllers name the controllers' pods, by their ids, as the quorum`, async () => {
      const manifests = await renderOverlay(overlay);
      const statefulSet = (name: string) => manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === name)!;
      const envOf = (m: Manifest) => Object.fromEntries((m.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: any }[]).map((e) => [e.name, e.value ?? e.valueFrom]));
      const [controllers, brokers] = [statefulSet('kafka-controller'), statefulSet('kafka')];
      const start: number = controllers.spec.ordinals?.start ?? 0;
      const ids = Array.from({ length: controllers.spec.replicas }, (_, i) => start + i);
      const voters = ids.map((id) => `${id}@kafka-controller-${id}.${controllers.spec.serviceName}:9093`).join(',');
      for (const [m, roles] of [[controllers, 'controller'], [brokers, 'broker']] as const) {
        const env = envOf(m);
        expect([env.KAFKA_PROCESS_ROLES, env.KAFKA_CONTROLLER_QUORUM_VOTERS]).toEqual([roles, voters]);
        // Each pod's node id is its ordinal.
        expect(env.KAFKA_NODE_ID).toEqual({ fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } });
      }
      const brokerIds = Array.from({ length: brokers.spec.replicas }, (_, i) => (brokers.spec.ordinals?.start ?? 0) + i);
      expect(brokerIds.filter((id) => ids.includes(id))).toEqual([]);
      // Each headless Service resolves the pods of its own kind only.
      const service = (name: string) => manifests.find((m) => m.kind === 'Service' && m.metadata.name === name)!.spec.selector as Record<string, string>;
      const selects = (selector: Record<string, string>, m: Manifest) => Object.entries(selector).every(([key, value]) => m.spec.template.metadata.labels[key] === value);
      expect([selects(service(controllers.spec.serviceName), controllers), selects(service(controllers.spec.serviceName), brokers)]).toEqual([true, false]);
      expect([selects(service(brokers.spec.serviceName), brokers), selects(service(brokers.spec.serviceName), controllers)]).toEqual([true, false]);
      // What ops/dev measured for a broker's crash: the controllers fence it (their setting), the brokers
      // heartbeat and fetch from each other (theirs).
      const envName = (setting: string) => `KAFKA_${setting.toUpperCase().replaceAll('.', '_')}`;
      for (const [setting, value] of Object.entries(BROKER_LOSS_SETTINGS)) {
        const kind = setting === 'broker.session.timeout.ms' ? controllers : brokers;
        expect({ setting, value: Number(envOf(kind)[envName(setting)]) }).toEqual({ setting, value });
      }
    });
  }

  // ops/check-exposure.py holds an overlay to HTTPS when CouchDB's own config turns [ssl] on; this pins
  // that prod does, so prod cannot slide back to plain HTTP with every check still passing.
  test('prod: CouchDB serves TLS on 6984, and every role reaches it there over https', async () => {
    const manifests = await renderOverlay('prod');
    const ini = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'couchdb-config')!.data!['tls.ini'];
    expect(ini).toMatch(/^\[ssl\]\nenable = true\nport = 6984$/m);
    for (const c of stratusContainers(manifests).filter((c) => c.serves)) {
      expect({ owner: c.owner, url: c.env.STRATUS_COUCHDB_URL ?? c.env.COUCHDB_URL }).toEqual({ owner: c.owner, url: 'https://couchdb:6984' });
    }
  }, 30_000);
});

/** Runs one of ops/validate's Python checks on `manifests`, as ops/validate runs it on a rendered overlay. */
async function runCheck(script: string, manifests: Manifest[]): Promise<{ code: number; problems: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-exposure-'));
  try {
    // JSON is YAML: one document each, as kustomize writes them.
    writeFileSync(join(dir, 'rendered.yaml'), manifests.map((m) => JSON.stringify(m)).join('\n---\n'));
    const { code, stderr } = await runToEnd(['python3', join(REPO, script), join(dir, 'rendered.yaml')]);
    return { code, problems: stderr.split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const checkExposure = (manifests: Manifest[]) => runCheck('ops/check-exposure.py', manifests);
const checkSecrets = (manifests: Manifest[]) => runCheck('ops/check-secrets.py', manifests);

/** A way a change to the manifests could go wrong, and the line the check must print for it. */
interface Breach {
  readonly name: string;
  readonly expect: RegExp;
  apply(manifests: Manifest[]): void;
}

/** Each breach applied to its own copy of prod's render must fail the script with its line. */
function catchesEach(script: string, breaches: readonly Breach[]): void {
  describe.skipIf(!exposureCheckRuns)(script, () => {
    // Side by side: each changes its own copy and checks it in a directory of its own.
    for (const breach of breaches) {
      test.concurrent(`catches ${breach.name}`, async () => {
        const manifests = await renderOverlay('prod');
        breach.apply(manifests);
        const { code, problems } = await runCheck(script, manifests);
        expect(code).toBe(1);
        expect(problems.join('\n')).toMatch(breach.expect);
      }, 30_000);
    }
  });
}

/** A workload's pod spec, by kind and name. */
function podOf(ms: Manifest[], kind: string, name: string): any {
  return ms.find((m) => m.kind === kind && m.metadata.name === name)!.spec.template.spec;
}

/** One of each way an overlay could expose too much, each applied to a copy of prod as rendered. */
const EXPOSURES: Breach[] = [
  {
    name: 'an Ingress path that takes everything',
    expect: /^Ingress\/stratus: Prefix \/ routes \/metrics$/m,
    apply: (ms) => ms.find((m) => m.kind === 'Ingress')!.spec.rules[0].http.paths.push({ path: '/', pathType: 'Prefix', backend: { service: { name: 'stratus-gateway', port: { name: 'http' } } } }),
  },
  {
    name: 'an Ingress path for the admin API',
    expect: /^Ingress\/stratus: Prefix \/api routes \/api\/models\/v1\/serve$/m,
    apply: (ms) => ms.find((m) => m.kind === 'Ingress')!.spec.rules[0].http.paths.push({ path: '/api', pathType: 'Prefix', backend: { service: { name: 'stratus-gateway', port: { name: 'http' } } } }),
  },
  {
    name: "a Service port that leads to the gateway's admin port",
    expect: /^Service\/stratus-gateway: port admin leads to Deployment\/stratus-gateway's admin or metrics port$/m,
    apply: (ms) => ms.find((m) => m.kind === 'Service' && m.metadata.name === 'stratus-gateway')!.spec.ports.push({ name: 'admin', port: 9090, targetPort: 'admin' }),
  },
  {
    name: 'no admin port: metrics and admin on port 3000',
    expect: /^Deployment\/stratus-gateway: STRATUS_ADMIN_PORT is not set/m,
    apply: (ms) => void delete ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'stratus-config')!.data!.STRATUS_ADMIN_PORT,
  },
  {
    name: 'the monitoring namespace on the public port',
    expect: /^NetworkPolicy\/metrics-from-monitoring: namespace monitoring reaches \['3000', '9100'\], not only the metrics port$/m,
    apply: (ms) => ms.find((m) => m.metadata.name === 'metrics-from-monitoring')!.spec.ingress[0].ports.push({ protocol: 'TCP', port: 3000 }),
  },
  {
    name: 'the monitoring namespace on the admin port, one token from the admin API',
    expect: /^NetworkPolicy\/metrics-from-monitoring: namespace monitoring reaches \['9090', '9100'\], not only the metrics port$/m,
    apply: (ms) => ms.find((m) => m.metadata.name === 'metrics-from-monitoring')!.spec.ingress[0].ports.push({ protocol: 'TCP', port: 9090 }),
  },
  {
    name: 'no metrics port: /metrics beside the admin API',
    expect: /^Deployment\/stratus-consumer: STRATUS_METRICS_PORT is not set, so \/metrics shares the admin port with the admin API$/m,
    apply: (ms) => void delete ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'stratus-config')!.data!.STRATUS_METRICS_PORT,
  },
  {
    name: 'a port on CouchDB\'s keeper, which serves nothing',
    expect: /^StatefulSet\/couchdb: container keeper runs `couchdb keep`, which serves nothing, yet declares ports$/m,
    apply: (ms) => void (podOf(ms, 'StatefulSet', 'couchdb').containers.find((c: any) => c.name === 'keeper').ports = [{ name: 'admin', containerPort: 9090 }]),
  },
  {
    name: "link-local addresses in the trainer's egress",
    expect: /^NetworkPolicy\/trainer-downloads-mnist: egress to 0\.0\.0\.0\/0 does not except 169\.254\.0\.0\/16$/m,
    apply: (ms) => {
      const block = ms.find((m) => m.metadata.name === 'trainer-downloads-mnist')!.spec.egress[0].to[0].ipBlock;
      block.except = block.except.filter((range: string) => range !== '169.254.0.0/16');
    },
  },
  {
    name: 'an IPv6 egress block open to unique-local addresses',
    expect: /^NetworkPolicy\/trainer-downloads-mnist: egress to ::\/0 does not except fc00::\/7$/m,
    apply: (ms) => ms.find((m) => m.metadata.name === 'trainer-downloads-mnist')!.spec.egress[0].to.push({ ipBlock: { cidr: '::/0', except: ['fe80::/10', '::1/128'] } }),
  },
  {
    name: "bootstrap servers that resolve only in the app's namespace",
    expect: /^ScaledObject\/stratus-consumer: bootstrap server 'kafka-0\.kafka-headless:9092' is not a Service of namespace stratus/m,
    apply: (ms) => void (ms.find((m) => m.kind === 'ScaledObject')!.spec.triggers[0].metadata.bootstrapServers = 'kafka-0.kafka-headless:9092'),
  },
  {
    name: 'brokers that advertise short names',
    expect: /^StatefulSet\/kafka: advertised listeners .* do not resolve from namespace keda$/m,
    apply: (ms) => {
      const env = ms.find((m) => m.kind === 'StatefulSet' && m.metadata.name === 'kafka')!.spec.template.spec.containers[0].env;
      env.find((e: { name: string }) => e.name === 'KAFKA_ADVERTISED_LISTENERS').value = 'PLAINTEXT://$(POD_NAME).kafka-headless:9092';
    },
  },
  {
    name: 'no policy that lets KEDA reach Kafka',
    expect: /^ScaledObject\/stratus-consumer: no NetworkPolicy lets namespace keda reach Kafka on 9092$/m,
    apply: (ms) => void ms.splice(ms.findIndex((m) => m.metadata.name === 'kafka-from-keda'), 1),
  },
  {
    name: "KEDA's namespace let in on Kafka's controller port, where every caller is a super user",
    expect: /^NetworkPolicy\/kafka-from-keda: admits others than Kafka's own pods to its controller port 9093, where every caller is a super user$/m,
    apply: (ms) => ms.find((m) => m.metadata.name === 'kafka-from-keda')!.spec.ingress[0].ports.push({ protocol: 'TCP', port: 9093 }),
  },
  {
    name: 'Stratus pods let in on every Kafka port',
    expect: /^NetworkPolicy\/kafka-from-clients-and-peers: admits others than Kafka's own pods to its controller port 9093/m,
    apply: (ms) => void delete ms.find((m) => m.metadata.name === 'kafka-from-clients-and-peers')!.spec.ingress[0].ports,
  },
  {
    name: 'a role back on plain HTTP to CouchDB, which serves TLS',
    expect: /^Deployment\/stratus-consumer: container stratus reaches CouchDB at http:\/\/couchdb:5984 \(STRATUS_COUCHDB_URL\), not https:\/\/, while CouchDB serves TLS$/m,
    apply: (ms) => void (podOf(ms, 'Deployment', 'stratus-consumer').containers[0].env ??= []).push({ name: 'STRATUS_COUCHDB_URL', value: 'http://couchdb:5984' }),
  },
  {
    name: 'a role on https without the CA that signed CouchDB\'s certificate',
    expect: /^Deployment\/stratus-gateway: container stratus reaches CouchDB over https:\/\/ without NODE_EXTRA_CA_CERTS/m,
    apply: (ms) => {
      const container = podOf(ms, 'Deployment', 'stratus-gateway').containers[0];
      container.env = container.env.filter((e: { name: string }) => e.name !== 'NODE_EXTRA_CA_CERTS');
    },
  },
  {
    name: 'a CA file that no volume of the role provides',
    expect: /^Job\/stratus-trainer: container stratus has NODE_EXTRA_CA_CERTS=\/var\/run\/secrets\/stratus\/couchdb-ca\/ca\.crt, which no volume it mounts provides$/m,
    apply: (ms) => {
      const container = podOf(ms, 'Job', 'stratus-trainer').containers[0];
      container.volumeMounts = container.volumeMounts.filter((m: { name: string }) => m.name !== 'couchdb-ca');
    },
  },
  {
    name: "https to CouchDB's plain HTTP port",
    expect: /^Deployment\/stratus-gateway: container stratus reaches CouchDB at https:\/\/couchdb:5984, but no port 5984 of Service\/couchdb leads to CouchDB's TLS port$/m,
    apply: (ms) => void (ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'stratus-config')!.data!.COUCHDB_URL = 'https://couchdb:5984'),
  },
  {
    name: "CouchDB's plain HTTP port back on its Service",
    expect: /^Service\/couchdb: port http leads to StatefulSet\/couchdb's plain HTTP port 5984, while CouchDB serves TLS$/m,
    apply: (ms) => ms.find((m) => m.kind === 'Service' && m.metadata.name === 'couchdb')!.spec.ports.push({ name: 'http', port: 5984, targetPort: 'http' }),
  },
  {
    name: "a NetworkPolicy that admits CouchDB's plain HTTP port",
    expect: /^NetworkPolicy\/couchdb-from-stratus: admits StatefulSet\/couchdb's plain HTTP port 5984, while CouchDB serves TLS$/m,
    apply: (ms) => ms.find((m) => m.metadata.name === 'couchdb-from-stratus')!.spec.ingress[0].ports.push({ protocol: 'TCP', port: 5984 }),
  },
  {
    name: 'the keeper reaching CouchDB through its Service rather than loopback',
    expect: /^StatefulSet\/couchdb: container keeper reaches CouchDB at http:\/\/couchdb:5984: inside CouchDB's pod, only over loopback$/m,
    apply: (ms) => {
      const keeper = podOf(ms, 'StatefulSet', 'couchdb').containers.find((c: any) => c.name === 'keeper');
      keeper.env.find((e: { name: string }) => e.name === 'STRATUS_COUCHDB_URL').value = 'http://couchdb:5984';
    },
  },
  {
    name: 'roles on https to a CouchDB whose TLS is off',
    expect: /^Deployment\/stratus-gateway: container stratus reaches CouchDB at https:\/\/couchdb:6984, but CouchDB here does not enable \[ssl\]$/m,
    apply: (ms) => void delete ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'couchdb-config')!.data!['tls.ini'],
  },
];

catchesEach('ops/check-exposure.py', EXPOSURES);

/** One of each way an overlay could hand a pod a CouchDB credential it should not hold. */
const SECRET_LEAKS: Breach[] = [
  {
    name: 'the CouchDB admin mounted in the gateway',
    expect: /^Deployment\/stratus-gateway: references Secret stratus-couchdb, the CouchDB admin, which only StatefulSet\/couchdb may hold$/m,
    apply: (ms) => void (podOf(ms, 'Deployment', 'stratus-gateway').volumes.find((v: any) => v.name === 'couchdb-credentials').secret.secretName = 'stratus-couchdb'),
  },
  {
    name: "the CouchDB admin's password in the trainer's environment",
    expect: /^Job\/stratus-trainer: references Secret stratus-couchdb, the CouchDB admin/m,
    apply: (ms) =>
      void podOf(ms, 'Job', 'stratus-trainer').containers[0].env.push({ name: 'COUCHDB_PASSWORD', valueFrom: { secretKeyRef: { name: 'stratus-couchdb', key: 'password' } } }),
  },
  {
    name: "the gateway's CouchDB user mounted in the consumers",
    expect: /^Deployment\/stratus-consumer: references Secret stratus-couchdb-gateway, the gateway's CouchDB user, but runs consumer$/m,
    apply: (ms) => void (podOf(ms, 'Deployment', 'stratus-consumer').volumes.find((v: any) => v.name === 'couchdb-credentials').secret.secretName = 'stratus-couchdb-gateway'),
  },
  {
    name: 'a Secret volume that mounts every key',
    expect: /^Deployment\/stratus-consumer: volume couchdb-credentials mounts every key of Secret stratus-couchdb-consumer: list them in items$/m,
    apply: (ms) => void delete podOf(ms, 'Deployment', 'stratus-consumer').volumes.find((v: any) => v.name === 'couchdb-credentials').secret.items,
  },
  {
    name: "a projected role user that mounts every key, in CouchDB's keeper",
    expect: /^StatefulSet\/couchdb: volume couchdb-users mounts every key of Secret stratus-couchdb-trainer: list them in items$/m,
    apply: (ms) => void delete podOf(ms, 'StatefulSet', 'couchdb').volumes.find((v: any) => v.name === 'couchdb-users').projected.sources[2].secret.items,
  },
  {
    name: "CouchDB's Erlang cookie given to the keeper",
    expect: /^StatefulSet\/couchdb: volume couchdb-admin gives a Stratus container keys of stratus-couchdb other than username and password$/m,
    apply: (ms) => void podOf(ms, 'StatefulSet', 'couchdb').volumes.find((v: any) => v.name === 'couchdb-admin').secret.items.push({ key: 'cookie', path: 'cookie' }),
  },
  {
    name: "CouchDB's TLS key mounted in the keeper",
    expect: /^StatefulSet\/couchdb: volume couchdb-tls gives a Stratus container stratus-couchdb-tls, CouchDB's TLS key$/m,
    apply: (ms) =>
      void podOf(ms, 'StatefulSet', 'couchdb')
        .containers.find((c: any) => c.name === 'keeper')
        .volumeMounts.push({ name: 'couchdb-tls', mountPath: '/var/run/secrets/couchdb-tls', readOnly: true }),
  },
  {
    name: "CouchDB's TLS key in the gateway",
    expect: /^Deployment\/stratus-gateway: references Secret stratus-couchdb-tls, CouchDB's TLS key, which only StatefulSet\/couchdb may hold$/m,
    apply: (ms) => void (podOf(ms, 'Deployment', 'stratus-gateway').volumes.find((v: any) => v.name === 'couchdb-ca').secret.secretName = 'stratus-couchdb-tls'),
  },
  {
    name: "Kafka's super user in the gateway",
    expect: /^Deployment\/stratus-gateway: references Secret stratus-kafka-admin, Kafka's super user, which it has no use for$/m,
    apply: (ms) =>
      void podOf(ms, 'Deployment', 'stratus-gateway').containers[0].env.push({ name: 'KAFKA_ADMIN', valueFrom: { secretKeyRef: { name: 'stratus-kafka-admin', key: 'password' } } }),
  },
  {
    name: "the brokers' TLS key in the kafka-acls Job",
    expect: /^Job\/kafka-acls: references Secret stratus-kafka-tls, the Kafka brokers' TLS key, which it has no use for$/m,
    apply: (ms) => void (podOf(ms, 'Job', 'kafka-acls').volumes.find((v: any) => v.name === 'kafka-ca').secret.secretName = 'stratus-kafka-tls'),
  },
  {
    name: "the consumer's Kafka user in the gateway",
    expect: /^Deployment\/stratus-gateway: references Secret stratus-kafka-consumer, the consumer's Kafka user, which it has no use for$/m,
    apply: (ms) => void (podOf(ms, 'Deployment', 'stratus-gateway').containers[0].env.find((e: any) => e.name === 'STRATUS_KAFKA_SASL_PASSWORD').valueFrom.secretKeyRef.name = 'stratus-kafka-consumer'),
  },
  {
    name: 'a whole Secret in a role\'s environment',
    expect: /^Deployment\/stratus-gateway: container stratus takes every key of Secret stratus-session into its environment$/m,
    apply: (ms) => void podOf(ms, 'Deployment', 'stratus-gateway').containers[0].envFrom.push({ secretRef: { name: 'stratus-session' } }),
  },
];

catchesEach('ops/check-secrets.py', SECRET_LEAKS);

/** The prod ScaledObject's kafka trigger and the TriggerAuthentication it names. */
const kafkaTrigger = (ms: Manifest[]) => ms.find((m) => m.kind === 'ScaledObject')!.spec.triggers[0];
const triggerAuth = (ms: Manifest[]) => ms.find((m) => m.kind === 'TriggerAuthentication' && m.metadata.name === 'stratus-kafka-keda')!;

/** One of each way KEDA's lag scaler could fail to log in to the prod brokers. */
const KEDA_LOGINS: Breach[] = [
  {
    name: 'a trigger without an authenticationRef',
    expect: /^stratus-consumer: kafka trigger has no authenticationRef naming a TriggerAuthentication of this overlay \(got None\)$/m,
    apply: (ms) => void delete kafkaTrigger(ms).authenticationRef,
  },
  {
    name: 'an authenticationRef to a TriggerAuthentication the overlay lacks',
    expect: /^stratus-consumer: kafka trigger has no authenticationRef naming a TriggerAuthentication of this overlay \(got 'stratus-kafka-keda'\)$/m,
    apply: (ms) => void ms.splice(ms.indexOf(triggerAuth(ms)), 1),
  },
  {
    name: 'TLS without the CA',
    expect: /^stratus-consumer: TLS on, but TriggerAuthentication\/stratus-kafka-keda gives no ca to check the brokers' certificate$/m,
    apply: (ms) => void (triggerAuth(ms).spec.secretTargetRef = triggerAuth(ms).spec.secretTargetRef.filter((r: any) => r.parameter !== 'ca')),
  },
  {
    name: 'a SASL mechanism the brokers do not take',
    expect: /^stratus-consumer: the brokers ask for SASL \['SCRAM-SHA-512'\], the trigger says sasl 'plaintext'$/m,
    apply: (ms) => void (kafkaTrigger(ms).metadata.sasl = 'plaintext'),
  },
  {
    name: 'no TLS to a TLS listener',
    expect: /^stratus-consumer: the brokers' listener is SASL_SSL, the trigger does not say tls: enable$/m,
    apply: (ms) => void delete kafkaTrigger(ms).metadata.tls,
  },
];

catchesEach('ops/check-scaled-object.py', KEDA_LOGINS);

// compose.yaml is read as YAML and --check-config runs the binary: neither needs kubectl or kustomize, so
// these stay outside the gate above and run on every machine.
describe('compose and --check-config', () => {
  test('compose.yaml: every Stratus service passes --check-config and runs one image', async () => {
    const compose = Bun.YAML.parse(await Bun.file(join(REPO, 'compose.yaml')).text()) as { services: Record<string, any> };
    const stratus = Object.entries(compose.services).filter(([, service]) => String(service.image).includes('stratus'));
    expect(stratus.map(([name]) => name).sort()).toEqual(['consumer', 'couchdb-keeper', 'gateway', 'trainer']);
    expect(new Set(stratus.map(([, service]) => service.image)).size).toBe(1);
    for (const [name, service] of stratus) {
      // Compose fills these from the user's environment: ${VAR:-default} gives the default when it is unset,
      // as here; ${VAR:?message} must be set, and a stand-in takes the user's value.
      const filled = (value: string) => value.replace(/\$\{[^}:]+:-([^}]*)\}/g, '$1').replace(/\$\{[^}]+\}/g, STAND_IN_SECRET);
      const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, filled(String(v))]));
      const proc = Bun.spawn(['bun', MAIN, ...service.command, '--check-config'], { cwd: REPO, env: { PATH: process.env.PATH, ...env }, stdout: 'pipe', stderr: 'pipe' });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect({ name, code, stderr }).toEqual({ name, code: 0, stderr: '' });
    }
  }, 60_000);

  test('--check-config refuses what the binary would refuse', async () => {
    const { code, stderr } = await runToEnd(['bun', MAIN, '--role', 'gateway', '--transport', 'kafka', '--check-config']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
