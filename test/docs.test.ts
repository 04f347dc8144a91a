// The project's prose, read as a newcomer reads it: the README stays short, every link leads somewhere,
// and the README's example request gets the answer the README promises from the model it names.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readEmbeddedVersion } from '../src/model/publish.ts';
import { postJson, startLocal } from './helpers/local-stratus.ts';

const REPO = resolve(import.meta.dir, '..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const PAGES = ['README.md', 'ops/README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1]!)));
}

/** Every relative link target of a page (images too), without code blocks or inline code. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/.test(target));
}

test('headingAnchor follows GitHub', () => {
  expect(headingAnchor("The paper's experiments")).toBe('the-papers-experiments');
  expect(headingAnchor('Local mode and cluster mode')).toBe('local-mode-and-cluster-mode');
});

test('the README is under 200 lines', () => {
  expect(README.split('\n').length).toBeLessThan(200);
});

test.each(PAGES)('every relative link in %s reaches a file, and a heading there', (page) => {
  const text = readFileSync(join(REPO, page), 'utf8');
  const broken: string[] = [];
  for (const link of relativeLinks(text)) {
    const [path, anchor] = link.split('#') as [string, string | undefined];
    const file = path === '' ? join(REPO, page) : resolve(REPO, dirname(page), path);
    if (!existsSync(file)) broken.push(`${link}: no such file`);
    else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${link}: no such heading`);
  }
  expect(broken).toEqual([]);
});

test.each(PAGES)('%s speaks of the software, not of how its work was tracked', (page) => {
  const text = readFileSync(join(REPO, page), 'utf8');
  expect(text.match(/\bstops? \d|\b(previous|last|this|that|next) stop\b|\bissue ?#?\d|\bthe issue\b|\bissue's\b/gi) ?? []).toEqual([]);
});

describe("the README's example", () => {
  let stratus: Awaited<ReturnType<typeof startLocal>>;
  beforeAll(async () => {
    stratus = await startLocal();
  });
  afterAll(() => stratus.stop());

  test('reads the number the README says, by the model it names, which is the embedded one', async () => {
    const block = /## Try it[\s\S]*?```sh\n([\s\S]*?)```/.exec(README)?.[1];
    const body = /-d '([\s\S]*?)'/.exec(block ?? '')?.[1];
    expect(body).toBeDefined();
    const promised = /"number": "(\d+)"[\s\S]*?"model": \{"version": "([^"]+)"\}/.exec(README);
    expect(promised).not.toBeNull();
    const answer = (await (await postJson(`${stratus.url}/api/predict`, body!)).json()) as { number: string; model: { version: string } };
    expect(answer.number).toBe(promised![1]!);
    expect(answer.model.version).toBe(promised![2]!);
    expect((await readEmbeddedVersion()).meta.version).toBe(promised![2]!);
  });
});
