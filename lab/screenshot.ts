/**
 * `npx ts-node --transpile-only lab/screenshot.ts [out.png]`: takes the
 * README's screenshot (docs/lab.png) with headless Chromium: the dev stack as
 * configured, logged in to the front end only, all three cases run.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { findChromium, headlessFlags, labFlags, prepareProfile } from "./browser";
import { startLab } from "./lab";

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, "..", "docs", "lab.png"));
  const executablePath = findChromium();
  if (!executablePath) throw new Error("no Chromium found; install Debian's chromium package");
  const lab = await startLab({ stack: "dev", port: 0 });
  const profile = mkdtempSync(path.join(tmpdir(), "access-bridge-shot-"));
  prepareProfile(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1360, height: 860 },
    deviceScaleFactor: 1,
    args: [
      ...headlessFlags,
      ...labFlags({ port: lab.port, hosts: lab.hosts, spki: lab.certificate.spki }),
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(lab.frontendUrl());
    await page.fill('input[name="email"]', "dev@example.com");
    await Promise.all([
      page.waitForURL((u) => u.hostname === "www.example.com"),
      page.click('button[type="submit"]'),
    ]);
    await page.waitForSelector("body[data-ready=true]");
    for (const name of ["worker", "simple", "preflighted"]) {
      await page.click(`button[data-case="${name}"]`);
      await page.locator(`output[data-case="${name}"][data-state="done"]`).waitFor();
    }
    mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: false });
    process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
  } finally {
    await context.close();
    await lab.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
