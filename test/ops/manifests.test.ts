// The rendered Kubernetes manifests against the binary they deploy: every Stratus container's args and
// environment must be a configuration the binary accepts (`--check-config`), every probe must hit a path
// the process serves, and every role must run the one image.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, REPO, runToEnd, startProcess, type Started } from '../helpers/process.ts';

type Manifest = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: any };
interface Container {
  readonly owner: string;
  readonly image: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly probePaths: string[];
}

const OVERLAYS = readdirSync(join(REPO, 'ops/k8s/overlays'));
const kustomize = Bun.which('kubectl') ? ['kubectl', 'kustomize'] : Bun.which('kustomize') ? ['kustomize', 'build'] : null;

async function render(overlay: string): Promise<Manifest[]> {
  const { code, stdout, stderr } = await runToEnd([...kustomize!, join(REPO, 'ops/k8s/overlays', overlay)]);
  if (code !== 0) throw new Error(`kustomize ${overlay}: ${stderr}`);
  return Bun.YAML.parse(stdout) as Manifest[];
}

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
      // A mounted Secret becomes a directory of files, one per key: stand one in where the env points to it.
      const secretVolumes = new Set((pod.volumes ?? []).filter((v: any) => v.secret).map((v: any) => v.name));
      for (const mount of c.volumeMounts ?? []) {
        if (!secretVolumes.has(mount.name)) continue;
        const standIn = mountedSecretStandIn();
        for (const [name, value] of Object.entries(env)) if (value === mount.mountPath) env[name] = standIn;
      }
      const probes = [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean);
      found.push({
        owner: `${m.kind}/${m.metadata.name}`,
        image: c.image,
        args: c.args ?? [],
        env,
        probePaths: probes.map((p: any) => p.httpGet?.path).filter(Boolean),
      });
    }
  }
  return found;
}

/** Long enough for any secret the binary takes (32 characters at least), and plainly not a real one. */
const STAND_IN_SECRET = 'stand-in-secret-0123456789abcdef0123456789';

const standIns: string[] = [];
function mountedSecretStandIn(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-secret-'));
  standIns.push(dir);
  for (const key of ['username', 'password', 'cookie']) writeFileSync(join(dir, key), `stand-in-${key}`);
  return dir;
}

if (kustomize === null) {
  // CI installs the tools (STRATUS_REQUIRE_OPS_TOOLS=1): there a missing one is a failure, not a skip.
  if (process.env.STRATUS_REQUIRE_OPS_TOOLS === '1') throw new Error('neither kubectl nor kustomize is installed');
  console.warn('SKIPPED: the ops/k8s tests of test/ops/manifests.test.ts need kubectl or kustomize to render the overlays (the compose.yaml and --check-config tests still run)');
}

describe.skipIf(kustomize === null)('Kubernetes manifests', () => {
  let running: Started;
  beforeAll(async () => {
    // --store memory, not the default pouchdb in ./stratus-data: the same probe paths, no directory left behind.
    running = await startProcess(['bun', MAIN], ['--store', 'memory']);
  }, 30_000);
  afterAll(async () => {
    running?.proc.kill('SIGTERM');
    await running?.proc.exited;
    for (const dir of standIns) rmSync(dir, { recursive: true, force: true });
  });

  for (const overlay of OVERLAYS) {
    test(`${overlay}: every Stratus container's args and environment pass --check-config`, async () => {
      const containers = stratusContainers(await render(overlay));
      expect(containers.map((c) => c.owner).sort()).toEqual(['Deployment/stratus-consumer', 'Deployment/stratus-gateway', 'Job/stratus-trainer']);
      for (const c of containers) {
        const proc = Bun.spawn(['bun', MAIN, ...c.args, '--check-config'], { cwd: REPO, env: { PATH: process.env.PATH, ...c.env }, stdout: 'pipe', stderr: 'pipe' });
        const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
        expect({ owner: c.owner, code, stderr }).toEqual({ owner: c.owner, code: 0, stderr: '' });
      }
    }, 60_000);

    test(`${overlay}: all roles run one image`, async () => {
      const images = new Set(stratusContainers(await render(overlay)).map((c) => c.image));
      expect(images.size).toBe(1);
    }, 30_000);

    test(`${overlay}: every probe path is served`, async () => {
      const paths = new Set(stratusContainers(await render(overlay)).flatMap((c) => c.probePaths));
      expect(paths.size).toBeGreaterThan(0);
      for (const path of paths) {
        const response = await fetch(`${running.url}${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 200 });
      }
    }, 30_000);
  }
});

// compose.yaml is read as YAML and --check-config runs the binary: neither needs kubectl or kustomize, so
// these stay outside the gate above and run on every machine.
describe('compose and --check-config', () => {
  test('compose.yaml: every Stratus service passes --check-config and runs one image', async () => {
    const compose = Bun.YAML.parse(await Bun.file(join(REPO, 'compose.yaml')).text()) as { services: Record<string, any> };
    const stratus = Object.entries(compose.services).filter(([, service]) => String(service.image).includes('stratus'));
    expect(stratus.map(([name]) => name).sort()).toEqual(['consumer', 'gateway', 'trainer']);
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
