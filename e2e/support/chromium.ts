import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (never `npx playwright install`: no downloads).
 * Returns null, after printing why, where Chromium is not installed, so callers can skip.
 */
export const CHROMIUM_PATH = process.env.LANSPREAD_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumSkipReason(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set LANSPREAD_CHROMIUM)`;
}

export async function launchChromium(): Promise<Browser | null> {
  const reason = chromiumSkipReason();
  if (reason) {
    console.warn(`[e2e] skipping: ${reason}`);
    return null;
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}
