/**
 * The dashboard in Chromium for the browser tests (test/browser/dashboard-*.test.ts): an in-process Presently on a
 * real socket (the manual clock by default), the built web app (./build.ts rebuilds dist/ui/ when ui/ changed), and
 * Debian's Chromium through playwright-core. What the page shows is waited for by polling the DOM with a deadline
 * (`expectText`), never by sleeping.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import type { Config } from '../../src/config/config.ts';
import { builtUi } from './build.ts';
import { startInProcess, type TestServer } from './server.ts';
import { eventually } from './time.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const START = Date.parse('2026-11-28T08:00:00Z');
/** How long the page may take to show what it was sent (a loaded CI machine runs three suites at once). */
export const SHOWN_MS = 10_000;

export interface DashboardRig {
  server: TestServer;
  /** The server's origin. */
  origin: string;
  browser: Browser;
  /** Uncaught errors of the pages opened (a test asserts there are none). */
  errors: string[];
  /**
   * A new page (its own context: storage, viewport) at `/_presently/ui` + `hash`; closed by close(). `beforeLoad`
   * runs on the new page before it loads (to route its requests, say).
   */
  open(hash?: string, context?: BrowserContextOptions, beforeLoad?: (page: Page) => Promise<unknown>): Promise<Page>;
  close(): Promise<void>;
}

export async function startDashboard(overrides: Partial<Config> = {}): Promise<DashboardRig> {
  assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (Debian package chromium)`);
  builtUi();
  const server = await startInProcess({ clock: 'manual', ...overrides }, { manualStart: START });
  const origin = (await server.listen()).replace('://localhost', '://127.0.0.1');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const pages: Page[] = [];
  const errors: string[] = [];
  return {
    server, origin, browser, errors,
    async open(hash = '', context = {}, beforeLoad) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...context });
      const page = await ctx.newPage();
      pages.push(page);
      page.on('pageerror', (err) => errors.push(err.stack ?? err.message));
      await beforeLoad?.(page);
      await page.goto(`${origin}/_presently/ui${hash ? `#${hash.replace(/^#/, '')}` : ''}`);
      return page;
    },
    async close() {
      for (const page of pages) await page.context().close().catch(() => {});
      await browser.close();
      await server.close();
    },
  };
}

/** The visible text of every element `locator` matches, joined by newlines ('' when none is there yet). */
export async function textOf(locator: Locator): Promise<string> {
  return (await locator.allInnerTexts()).join('\n');
}

/** Waits until the text of `locator` matches `pattern` (or, with `absent`, no longer does); resolves to the text. */
export function expectText(locator: Locator, pattern: RegExp, opts: { ms?: number; absent?: boolean; what?: string } = {}): Promise<string> {
  const { ms = SHOWN_MS, absent = false } = opts;
  return eventually(() => textOf(locator), (text) => pattern.test(text) !== absent, ms, opts.what ?? `${locator} ${absent ? 'without' : 'showing'} ${pattern}`);
}

/** Waits until `locator` matches exactly `n` elements. */
export async function expectCount(locator: Locator, n: number, ms = SHOWN_MS): Promise<void> {
  await eventually(() => locator.count(), (c) => c === n, ms, `${locator}: ${n} elements`);
}

/** A user's card on the board (by display name). */
export const card = (page: Page, name: string) => page.getByRole('article', { name, exact: true });

/** Waits until the page's stream is connected (shown in the top bar). */
export async function live(page: Page): Promise<void> {
  await expectText(page.getByTitle('Live updates'), /^Live$/, { what: 'the stream is live' });
}
