/**
 * Debian's chromium through playwright-core, launched headless on a fresh profile with the flags this
 * machine's closed network needs, and the axe-core check every page of the browser tests gets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Page } from 'playwright-core';
import type { Test } from 'tap';

/** A phone-sized page in a browser of its own, closed (and its profile removed) at the end of `t`. */
export async function phonePage(t: Test): Promise<Page> {
  const profile = await mkdtemp(path.join(tmpdir(), 'cd-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.teardown(async () => {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.setViewportSize({ width: 375, height: 812 });
  return page;
}

/** Fails `t` for every serious or critical accessibility violation axe-core finds on the page. */
export async function assertAccessible(t: Test, name: string, page: Page): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  t.same(
    serious.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `${name}: no serious or critical accessibility violation`,
  );
}
