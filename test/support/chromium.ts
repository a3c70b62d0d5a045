/**
 * Debian's Chromium for the browser suites, with the flags this project runs it with. Where it is missing the suites
 * skip with one line, except under CI, where they run and fail: CI must install it (.ci/run does).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.TCE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const present = existsSync(CHROMIUM);

/** whether `suite` runs here (it logs the one line when it does not) */
export function browserSuiteRuns(suite: string): boolean {
  const runs = present || !!process.env.CI;
  if (!runs) console.log(`${suite} skipped: ${CHROMIUM} is missing (apt-get install chromium, or set TCE_CHROMIUM; under CI they fail instead)`);
  return runs;
}

export async function launchChromium(): Promise<Browser> {
  if (!present) throw new Error(`${CHROMIUM} is missing: CI must install it (.ci/run runs apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}
