// The ops tests read the Kubernetes manifests as kustomize renders them. kubectl carries kustomize; without
// it, a kustomize binary will do; with neither, KUSTOMIZE is null and those tests skip (loudly).
import { join } from 'node:path';
import { REPO, runToEnd } from './process.ts';

export type Manifest = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: any };

export const KUSTOMIZE = Bun.which('kubectl') ? ['kubectl', 'kustomize'] : Bun.which('kustomize') ? ['kustomize', 'build'] : null;

// kustomize runs once per overlay in a test file; every caller parses the text again and so gets a copy
// of its own to change (manifests.test.ts's breaches each alter prod).
const renderedText = new Map<string, Promise<string>>();
async function renderText(overlay: string): Promise<string> {
  const { code, stdout, stderr } = await runToEnd([...KUSTOMIZE!, join(REPO, 'ops/k8s/overlays', overlay)]);
  if (code !== 0) throw new Error(`kustomize ${overlay}: ${stderr}`);
  return stdout;
}

/** The overlay (ops/k8s/overlays/<overlay>) as kustomize renders it, freshly parsed. */
export async function renderOverlay(overlay: string): Promise<Manifest[]> {
  if (!renderedText.has(overlay)) renderedText.set(overlay, renderText(overlay));
  return Bun.YAML.parse(await renderedText.get(overlay)!) as Manifest[];
}
