import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The Chromium to drive, or why browser tests are skipped. */
export function findChromium(): { path: string; skip?: undefined } | { path?: undefined; skip: string } {
  const fromEnv = process.env.PACHCA_DIGEST_TEST_CHROMIUM;
  if (fromEnv) return { path: fromEnv };
  if (existsSync(DEFAULT_CHROMIUM)) return { path: DEFAULT_CHROMIUM };
  return { skip: `no Chromium: set PACHCA_DIGEST_TEST_CHROMIUM or install ${DEFAULT_CHROMIUM}` };
}

/** One headless browser (Playwright gives it a throwaway profile and removes it on close). */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    // Two cores, a cold start and a busy test run: the default 30 s can be short.
    timeout: 90_000,
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
}
