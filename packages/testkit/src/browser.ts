/**
 * The browser of the browser tests: Debian's chromium through playwright-core (`npx playwright install`
 * cannot download here), launched headless with the flags this machine's closed network needs, and the
 * axe-core check every page of those tests gets. A subpath of its own (`@citydeals/testkit/browser`), so tests
 * without a browser do not load playwright.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Test } from 'tap';

const chromiumFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's chromium, headless (`CHROMIUM_PATH` elsewhere), with extra arguments (a fake camera, say); every
 * context gets a fresh profile of its own. Closed at the end of `t` when one is given.
 */
export async function launchChromium(options: { t?: Test; args?: string[] } = {}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...chromiumFlags, ...(options.args ?? [])],
  });
  options.t?.teardown(() => browser.close());
  return browser;
}

/** A phone-sized page in a browser of its own, closed at the end of `t`. */
export async function phonePage(t: Test): Promise<Page> {
  const browser = await launchChromium({ t });
  const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
  return context.newPage();
}

/** axe-core's serious and critical violations on the page, one line each (rule, impact, elements). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Fails `t` for every serious or critical accessibility violation axe-core finds on the page. */
export async function assertAccessible(t: Test, name: string, page: Page): Promise<void> {
  t.same(await seriousViolations(page), [], `${name}: no serious or critical accessibility violation`);
}
