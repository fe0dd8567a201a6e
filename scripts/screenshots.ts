/**
 * `npm run screenshots`: the dashboard's pictures in the README, made from a running server. Starts Presently in
 * this process (memory store, manual clock at 14:30 UTC on a Tuesday), fills it with a realistic afternoon
 * (./demo-state.ts), opens each view in Chromium (Debian's, through playwright-core) as a viewer in London, and
 * writes docs/images/dashboard-*.png: the board in light and dark, a timeline, notifications and the controls.
 */
import { mkdirSync, rmSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEFAULTS } from '../src/config/config.ts';
import { buildPresently } from '../src/server.ts';
import { builtUi } from '../test/kit/build.ts';
import { ADELE, DemoClient, failingReceiver, populate } from './demo-state.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const OUT = join(ROOT, 'docs', 'images');
const CHROMIUM = '/usr/bin/chromium';
const START = Date.parse('2026-11-24T14:30:00Z');
const VIEWPORT = { width: 1440, height: 900 };

interface Shot {
  file: string;
  hash: string;
  scheme: 'light' | 'dark';
  height?: number;
  /** What to do on the page before the picture (wait for its content). */
  ready: (page: Page) => Promise<void>;
}

const SHOTS: Shot[] = [
  { file: 'dashboard-board-light.png', hash: '/board', scheme: 'light', ready: (p) => p.getByRole('article').first().waitFor() },
  { file: 'dashboard-board-dark.png', hash: '/board', scheme: 'dark', ready: (p) => p.getByRole('article').first().waitFor() },
  {
    file: 'dashboard-timeline.png', hash: `/users/${ADELE}`, scheme: 'light',
    ready: (p) => p.getByRole('list', { name: 'Changes, newest first' }).getByRole('listitem').nth(3).waitFor(),
  },
  {
    file: 'dashboard-notifications.png', hash: '/notifications', scheme: 'light', height: 1000,
    ready: async (p) => {
      await p.getByRole('region', { name: 'Deliveries table' }).waitFor();
      await p.getByRole('region', { name: 'Sink demo' }).locator('details').first().evaluate((d) => { (d as HTMLDetailsElement).open = true; });
    },
  },
  {
    file: 'dashboard-controls.png', hash: `/controls?user=${ADELE}`, scheme: 'light', height: 1250,
    ready: async (p) => {
      const form = p.getByRole('region', { name: 'Status message' });
      await form.getByLabel('Message').fill('Back from lunch');
      await form.getByRole('button', { name: 'Set status message' }).click();
      await form.getByText('HTTP 200').waitFor();
    },
  },
];

async function shoot(browser: Browser, url: string, shot: Shot): Promise<void> {
  const context = await browser.newContext({
    viewport: { width: VIEWPORT.width, height: shot.height ?? VIEWPORT.height }, colorScheme: shot.scheme,
    timezoneId: 'Europe/London', locale: 'en-GB',
  });
  try {
    const page = await context.newPage();
    await page.goto(`${url}/_presently/ui#${shot.hash}`);
    await page.waitForFunction(() => document.querySelector('[title="Live updates"]')?.textContent === 'Live');
    await shot.ready(page);
    // Fonts and the last frame of the stream's updates.
    await page.evaluate(() => document.fonts.ready);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(OUT, shot.file) });
    console.log(`  docs/images/${shot.file}`);
  } finally {
    await context.close();
  }
}

/** 8080, Presently's default (so the curl commands in the pictures read as the README's), unless it is taken. */
function port(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().once('error', () => resolve(0)).listen(8080, '127.0.0.1', () => probe.close(() => resolve(8080)));
  });
}

async function main(): Promise<void> {
  builtUi();
  const dataDir = mkdtempSync(join(tmpdir(), 'presently-screenshots-'));
  const presently = await buildPresently({ ...DEFAULTS, store: 'memory', clock: 'manual', port: await port(), dataDir, logLevel: 'silent' }, { manualStart: START });
  const receiver = await failingReceiver();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const url = (await presently.listen()).replace('://localhost', '://127.0.0.1');
    await populate(new DemoClient(url), receiver.url);
    mkdirSync(OUT, { recursive: true });
    console.log('screenshots:');
    for (const shot of SHOTS) await shoot(browser, url, shot);
  } finally {
    await browser.close();
    receiver.close();
    await presently.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
