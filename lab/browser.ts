/**
 * How Chromium is pointed at the lab: the real host names resolve to the lab's
 * loopback port (so origins stay portless, `https://www.example.com`, matching
 * the declared allowed origins), and exactly the lab's certificate is trusted.
 * Shared by `npm start`'s printed command, `--open`, the screenshot and the tests.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface BrowserTarget {
  port: number;
  hosts: string[];
  spki: string;
}

export const chromiumCandidates = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

export function findChromium(): string | undefined {
  return chromiumCandidates.find((p) => existsSync(p));
}

/** The flags that make Chromium reach the lab. `--ignore-certificate-errors-spki-list` only works with `--user-data-dir`. */
export function labFlags(target: BrowserTarget): string[] {
  const rules = target.hosts.map((h) => `MAP ${h} 127.0.0.1:${target.port}`).join(", ");
  return [`--host-resolver-rules=${rules}`, `--ignore-certificate-errors-spki-list=${target.spki}`];
}

/** Flags for an unattended headless run, on CI as root or on a laptop. */
export const headlessFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Prepares a profile that blocks third-party cookies, as Safari and Firefox do
 * by default and Chrome does in Incognito, so the cross-site scenario behaves
 * the same on every machine.
 */
export function prepareProfile(userDataDir: string): void {
  const dir = path.join(userDataDir, "Default");
  mkdirSync(dir, { recursive: true });
  const prefs = { profile: { cookie_controls_mode: 1, block_third_party_cookies: true } };
  writeFileSync(path.join(dir, "Preferences"), JSON.stringify(prefs));
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

export function commandLine(executable: string, args: string[]): string {
  return [executable, ...args].map(quote).join(" ");
}
