import { mkdir } from 'node:fs/promises';
import { seriousViolations } from '@citydeals/testkit/browser';
import type { Browser, Page } from 'playwright-core';
import type { Test } from 'tap';
import { PASSWORD } from './harness.ts';

/** Screenshots of every page checked, kept as CI artefacts (git-ignored). */
const SCREENSHOTS = new URL('../../../test-artifacts/screenshots/', import.meta.url);

/** Wall-clock time in Amsterdam as a datetime-local field takes it. */
export const amsterdamLocal = (instant: Date) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Amsterdam',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  })
    .format(instant)
    .replace(' ', 'T');

export const sizes = {
  desktop: { viewport: { width: 1280, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
} as const;
export type Size = keyof typeof sizes;

/** A logged-in page of its own context (contexts share cookies), with CSP violations collected. */
export async function loggedIn(browser: Browser, baseUrl: string, email: string, size: Size, csp: string[]) {
  const context = await browser.newContext(sizes[size]);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) csp.push(m.text());
  });
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('E-mailadres').fill(email);
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  return page;
}

/** axe on the page (nothing serious or critical), nothing wider than the screen, and a screenshot. */
export async function checkPage(t: Test, page: Page, name: string, size: Size) {
  t.same(await seriousViolations(page), [], `${name}-${size}: no serious or critical axe violation`);
  t.ok(
    (await page.locator('html').evaluate((root) => root.scrollWidth)) <= page.viewportSize()!.width,
    `${name}-${size}: nothing wider than the screen`,
  );
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}-${size}.png`, SCREENSHOTS).pathname, fullPage: true });
}
