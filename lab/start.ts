/**
 * `npm start [-- --stack NAME] [--port N] [--scenario NAME] [--open]`
 *
 * Runs the Pulumi program in-process for the stack, brings up the local lab
 * and prints the URL and the Chromium command line that reaches it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { commandLine, findChromium, labFlags, prepareProfile } from "./browser";
import { serveControl } from "./control";
import { startLab } from "./lab";
import { cachedCertificate } from "./tls";

interface Args {
  stack: string;
  port: number;
  scenario?: string;
  open: boolean;
  /** Keep the certificate in memory, use a throw-away browser profile, write nothing under .lab/ (for tests). */
  ephemeral: boolean;
}

/** A mistake on the command line: reported with the usage, exit code 2. */
export class UsageError extends Error {}

export const usage = "usage: npm start [-- --stack NAME] [--port N] [--scenario NAME] [--open]";

const stacksDir = path.join(__dirname, "..", "stacks");

/** The stacks this checkout configures: `stacks/Pulumi.<name>.yaml`. */
export function knownStacks(dir = stacksDir): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

export function checkStack(stack: string, known: string[]): void {
  if (!known.includes(stack))
    throw new UsageError(
      `unknown stack ${JSON.stringify(stack)}: there is no stacks/Pulumi.${stack}.yaml; ` +
        `use ${known.map((k) => `--stack ${k}`).join(" or ")}`,
    );
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { stack: "dev", port: 8443, open: false, ephemeral: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const [name, inline] = flag.split("=", 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (!v) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (name === "--stack") args.stack = value();
    else if (name === "--port") args.port = Number(value());
    else if (name === "--scenario") args.scenario = value();
    else if (name === "--open") args.open = true;
    else if (name === "--ephemeral") args.ephemeral = true;
    else throw new UsageError(`unknown option ${flag}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
    throw new UsageError("--port must be 0..65535");
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  checkStack(args.stack, knownStacks());
  const stateDir = path.join(__dirname, "..", ".lab");
  process.stdout.write(
    `Declaring the ${args.stack} stack with the real program and starting the lab…\n`,
  );
  const lab = await startLab({
    stack: args.stack,
    port: args.port,
    scenario: args.scenario,
    certificate: args.ephemeral ? undefined : (hosts) => cachedCertificate(stateDir, hosts),
  });
  // On SIGINT/SIGTERM Miniflare's own exit hook stops workerd and exits
  // 130/143 before this can finish; it still matters when a parent process
  // disconnects. A connection that will not close must not keep the lab alive.
  const stop = (): void => {
    setTimeout(() => process.exit(1), 5_000).unref();
    void lab.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  if (process.send) {
    const send = process.send.bind(process);
    process.once("disconnect", stop);
    serveControl(lab, (message) => send(message));
    return;
  }

  // A fresh profile per run for --ephemeral, so nothing is left under .lab/.
  const profile = args.ephemeral
    ? mkdtempSync(path.join(tmpdir(), "access-bridge-lab-"))
    : path.join(stateDir, "chromium-profile");
  prepareProfile(profile);
  if (args.ephemeral) process.once("exit", () => rmSync(profile, { recursive: true, force: true }));
  const browserArgs = [
    `--user-data-dir=${profile}`,
    "--no-first-run",
    ...labFlags({ port: lab.port, hosts: lab.hosts, spki: lab.certificate.spki }),
  ];
  const chromium = findChromium() ?? "chromium";
  const url = lab.frontendUrl();

  process.stdout.write(
    [
      "",
      `access-bridge lab: ${lab.active().scenario.title}`,
      `  open       ${url}`,
      `  listening  https://127.0.0.1:${lab.port} for ${lab.hosts.join(", ")}`,
      `  log in as  any address the stack's allowedEmails / allowedEmailDomains admit`,
      "",
      "The names must resolve to the lab, so open it in Chromium or Chrome started like this:",
      `  ${commandLine(chromium, [...browserArgs, url])}`,
      "",
      `Scenarios (switch on the page): ${lab.scenarios.map((s) => s.name).join(", ")}`,
      "Ctrl-C stops the lab.",
      "",
    ].join("\n"),
  );

  if (args.open) {
    const display = process.env["DISPLAY"] || process.env["WAYLAND_DISPLAY"];
    if (!display || !findChromium()) {
      process.stdout.write("--open: no display or no Chromium found; use the command above.\n");
    } else {
      const rootFlags = process.getuid?.() === 0 ? ["--no-sandbox"] : [];
      spawn(chromium, [...browserArgs, ...rootFlags, url], {
        stdio: "ignore",
        detached: true,
      }).unref();
    }
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`npm start: ${err.message}\n${usage}\n`);
      process.exit(2);
    }
    const busy = (err as { code?: string }).code === "EADDRINUSE";
    process.stderr.write(
      busy
        ? `npm start: port ${parseArgs(process.argv.slice(2)).port} is in use; pass --port N (0 picks a free one)\n`
        : `${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  });
}
