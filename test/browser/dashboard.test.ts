// The model dashboard in Chromium: its script runs under the page's CSP, asks for the admin token,
// reports a refusal, and a rollback with the right token changes the serving version in place. A version
// the consumer refuses is shown as refused, with its reason, and never as serving.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Browser } from 'playwright-core';
import { startWithAdmin, storeModel, trainingMetrics, type AdminStratus } from '../helpers/admin-stratus.ts';
import { launchChromium, SCREENSHOTS, watchProblems } from '../helpers/browser.ts';
import { postJson } from '../helpers/local-stratus.ts';

let stratus: AdminStratus;
let browser: Browser;
beforeAll(async () => {
  [stratus, browser] = await Promise.all([startWithAdmin(), launchChromium()]);
  await storeModel(stratus.store, { version: 'v1', createdAt: '2026-11-25T10:00:00.000Z', metrics: trainingMetrics(0.9812, 3) });
  await storeModel(stratus.store, { version: 'v2', createdAt: '2026-11-25T11:00:00.000Z', metrics: trainingMetrics(0.9915, 6) });
  const served = await postJson(`${stratus.url}/api/models/v2/serve`, {}, { authorization: `Bearer ${stratus.token}` });
  if (served.status !== 202) throw new Error(`serving v2 answered ${served.status}`);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stratus?.stop();
});

test('roll back from the dashboard: no token, a wrong token, then the right one', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const problems = await watchProblems(page);
  await page.goto(`${stratus.url}/models`);
  const status = page.locator('#serve-status');
  const rollback = page.getByRole('button', { name: 'Roll back v1' });
  await expect(page.locator('#serving').textContent()).resolves.toContain('v2');

  await rollback.click();
  await expect(status.textContent()).resolves.toBe('Paste the admin token first.');

  await page.locator('#admin-token').fill('not-the-token');
  await rollback.click();
  await page.waitForFunction(() => document.querySelector('#serve-status')?.textContent?.startsWith('Refused'));
  expect(await status.textContent()).toStartWith('Refused (401)');

  await page.locator('#admin-token').fill(stratus.token);
  await rollback.click();
  await page.waitForFunction(() => document.querySelector('#serving')?.textContent?.includes('v1'));
  expect(await status.textContent()).toBe('Now serving v1.');
  expect(await stratus.store.getServingVersion()).toBe('v1');
  // Refreshed in place: the token is still there for the next change, and v2 is now a promotion.
  expect(await page.locator('#admin-token').inputValue()).toBe(stratus.token);
  expect(await page.getByRole('button', { name: 'Promote v2' }).count()).toBe(1);
  await page.screenshot({ path: `${SCREENSHOTS}/dashboard.png`, fullPage: true });

  // The page's own "Refused (401)" above is a console error Chromium logs for the failed fetch; nothing else.
  expect(problems.failedResponses.filter((e) => !e.startsWith('401 '))).toEqual([]);
  expect(problems.consoleErrors.filter((e) => !e.includes('401'))).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
  expect(await problems.cspViolations()).toEqual([]);
  await context.close();
}, 60_000);

test('a version the consumer refuses is shown refused, with its reason; the serving badge stays put', async () => {
  await storeModel(stratus.store, { version: 'zeroed', createdAt: '2026-11-25T12:00:00.000Z', metrics: trainingMetrics(0.99, 2) }, { zeroWeights: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const problems = await watchProblems(page);
  await page.goto(`${stratus.url}/models`);
  const servingBefore = await page.locator('tr.serving').getAttribute('data-version');
  expect(servingBefore).not.toBe('zeroed');

  await page.locator('#admin-token').fill(stratus.token);
  await page.getByRole('button', { name: 'Promote zeroed' }).click();
  await page.waitForFunction(() => document.querySelector('#serve-status')?.textContent?.includes('refused'), undefined, { timeout: 20_000 });
  expect(await page.locator('#serve-status').textContent()).toMatch(/^zeroed was refused: smoke_failed: /);

  // The list refreshes in place after the answer is shown.
  const row = page.locator('tr[data-version="zeroed"]');
  await page.waitForSelector('tr[data-version="zeroed"][data-state="refused"]', { timeout: 5_000 });
  expect(await row.locator('.badge.refused').getAttribute('title')).toMatch(/^smoke_failed: /);
  // One serving badge, still on the version that serves; the answers say the same.
  expect(await page.locator('tr[data-state="serving"]').count()).toBe(1);
  expect(await page.locator('tr.serving').getAttribute('data-version')).toBe(servingBefore);
  const answer = (await (await postJson(`${stratus.url}/api/predict`, { pixels: new Array(784).fill(0) })).json()) as { model: { version: string } };
  expect(answer.model.version).toBe(servingBefore!);
  await page.screenshot({ path: `${SCREENSHOTS}/dashboard-refused.png`, fullPage: true });

  expect(problems.failedResponses).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
  expect(await problems.cspViolations()).toEqual([]);
  await context.close();
}, 60_000);
