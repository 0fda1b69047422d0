/**
 * `npm start [-- --stack NAME] [--frontend URL] [--api URL] [--port N] [--scenario NAME] [--open] [--ephemeral]`
 *
 * Runs the Pulumi program in-process for the stack, brings up the local lab
 * (in front of the user's own dev servers when given) and prints the URL,
 * the Chromium command line that reaches it and a doctor command that checks
 * the API through it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { commandLine, findChromium, labFlags, prepareProfile } from "./browser";
import { serveControl } from "./control";
import { displayPath, labDoctorCommand } from "./doctor-command";
import { startLab, type Lab } from "./lab";
import { cachedCertificate, labFiles, newCertificate } from "./tls";
import { checkUpstreams, parseUpstream, type UpstreamFlag } from "./upstream";

interface Args {
  stack: string;
  /** The stack's config file, when it is not stacks/Pulumi.<stack>.yaml. */
  configFile?: string;
  port: number;
  scenario?: string;
  open: boolean;
  /** Keep the key in memory and everything else in a temporary folder removed on exit; write nothing under .lab/ (for tests). */
  ephemeral: boolean;
  /** The user's front-end dev server (an origin), served outside the route prefix. */
  frontend?: string;
  /** The user's API (an origin), behind the first API's Access edge. */
  api?: string;
}

/** A mistake on the command line: reported with the usage, exit code 2. */
export class UsageError extends Error {}

export const usage =
  "usage: npm start [-- --stack NAME] [--config-file PATH] [--frontend URL] [--api URL] [--port N] [--scenario NAME] [--open] [--ephemeral]";

export const help = `${usage}

Runs the Pulumi program for a stack in-process and brings up the local lab
on 127.0.0.1: the front end's and each API's Access edge, the declared Workers
in workerd, a demo API per API and a page that runs the guide's cases against
each. With --frontend and --api it stands in front of your own dev servers
instead of the demo ones.

  --stack NAME      the stack to declare: stacks/Pulumi.<NAME>.yaml (default dev)
  --config-file PATH  read the stack's config from PATH instead
  --frontend URL    your front end's dev server, e.g. http://localhost:5173: the
                    front end's host serves it outside the route prefix
                    (WebSockets and streams pass through); the lab's page moves
                    to /__lab/
  --api URL         your API, e.g. http://localhost:8080, behind the API's
                    Access edge instead of the demo API (with several APIs,
                    the first; the others keep their demo API)
  --port N          the port on 127.0.0.1 (default 8443; 0 picks a free one)
  --scenario NAME   the scenario to start with (default as-configured; the page
                    switches between them)
  --open            also start Chromium with the printed command line
  --ephemeral       keep the lab's key in memory and its files in a temporary
                    folder removed on exit, instead of .lab/
  --help            this text

Files under .lab/ (kept between runs): key.pem, the lab's TLS key for every
stack; cert-<stack>.pem, its certificate for the stack's hosts (--cacert);
profile-<stack>/, the Chromium profile; api-token-<stack>, a person's Access
token for the API app, valid while the lab runs (with several APIs, the
others' are api-token-<stack>-<hostname>).
`;

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
    else if (name === "--config-file") args.configFile = path.resolve(value());
    else if (name === "--port") args.port = Number(value());
    else if (name === "--scenario") args.scenario = value();
    else if (name === "--open") args.open = true;
    else if (name === "--ephemeral") args.ephemeral = true;
    else if (name === "--frontend") args.frontend = upstream(name, value());
    else if (name === "--api") args.api = upstream(name, value());
    else throw new UsageError(`unknown option ${flag}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
    throw new UsageError("--port must be 0..65535");
  for (const { flag, origin } of upstreamsOf(args)) {
    if (isLabItself(origin, args.port))
      throw new UsageError(`${flag} ${origin} is the lab's own port; give your server's`);
  }
  return args;
}

function upstream(flag: UpstreamFlag, value: string): string {
  try {
    return parseUpstream(flag, value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Whether an upstream would send the lab's requests back to the lab. */
function isLabItself(origin: string, labPort: number): boolean {
  const url = new URL(origin);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return port === labPort && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

/** The servers given with --frontend and --api, to check before anything starts. */
function upstreamsOf(args: Args): { flag: UpstreamFlag; origin: string }[] {
  return [
    ...(args.frontend !== undefined
      ? [{ flag: "--frontend" as const, origin: args.frontend }]
      : []),
    ...(args.api !== undefined ? [{ flag: "--api" as const, origin: args.api }] : []),
  ];
}

/** Upstreams that did not answer at start: one line each, naming the flag and the URL. */
export class UpstreamError extends Error {
  constructor(readonly reasons: string[]) {
    super(reasons.join("\n"));
  }
}

/** Says once a minute, not on every retry, that a browser does not trust the lab's certificate. */
function certificateRefusedNotice(): (alert: string) => void {
  let last = 0;
  return (alert) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    process.stderr.write(
      [
        "",
        `A browser refused the lab's certificate (TLS alert ${alert}); its window shows NET::ERR_CERT_AUTHORITY_INVALID.`,
        "Open the lab with the Chromium command printed above: it trusts exactly this certificate.",
        "A browser started without those flags does not, nor one that was already running with the",
        "same --user-data-dir (Chromium keeps the flags of the first start): close it and run the command again.",
        "",
      ].join("\n"),
    );
  };
}

/** What the welcome says about the user's own servers: where they are served, and how the API checks its assertions. */
export function upstreamLines(
  lab: Pick<Lab, "upstreams" | "active" | "pageUrl" | "apiJwt">,
): string[] {
  const { frontend, api } = lab.upstreams;
  if (frontend === undefined && api === undefined) return [];
  const t = lab.active().topology;
  const prefixes = t.apis.map((a) => `${a.routePrefix}/`).join(", ");
  const routes = t.apis.length === 1 ? "the Worker's route" : "the Workers' routes";
  const jwt = lab.apiJwt();
  return [
    ...(frontend !== undefined
      ? [
          `  lab page   ${lab.pageUrl()} (the guide's cases)`,
          `  front end  ${frontend} serves https://${t.frontend.hostname}/ outside ${prefixes} (${routes})`,
        ]
      : []),
    ...(api !== undefined
      ? [
          `  api        ${api} serves https://${t.apis[0]!.app.hostname}/ behind its Access edge`,
          "",
          "Your API gets Cf-Access-Jwt-Assertion signed by the lab's team keys. Verify it with:",
          `  certs      ${jwt.certs}   (the team's ${jwt.teamCerts}, over plain HTTP)`,
          `  issuer     ${jwt.issuer}`,
          `  audience   ${jwt.audience}`,
        ]
      : []),
  ];
}

/** What the welcome says about a front end whose Access app the stack does not declare. */
export function managedFrontendLines(lab: Pick<Lab, "active">): string[] {
  const t = lab.active().topology;
  if (!t.frontendManagedElsewhere) return [];
  return [
    `  front end  ${t.frontend.hostname}'s Access app is managed elsewhere (frontendAud): emulated with aud ${t.frontend.aud} and the people policy's rules`,
  ];
}

/**
 * Who the people policy lets in, as the lab emulates it, and plainly what it
 * cannot evaluate and treats as satisfied.
 */
export function peopleLines(lab: Pick<Lab, "active">): string[] {
  const t = lab.active().topology;
  const apps = [t.frontend, ...t.apis.map((a) => a.app)];
  const { access } = t.frontend;
  const admits = [
    ...(access.everyone ? ["everyone"] : []),
    ...access.emails,
    ...access.emailDomains.map((d) => `*@${d}`),
  ];
  const excluded = [
    ...(access.excludedEmails ?? []),
    ...(access.excludedDomains ?? []).map((d) => `*@${d}`),
  ];
  const unemulated = [...new Set(apps.flatMap((a) => a.access.unemulated ?? []))];
  return [
    `  log in as  any address the people policy admits${admits.length > 0 ? ` (${admits.join(", ")})` : ""}`,
    ...(excluded.length > 0 ? [`  excluded   ${excluded.join(", ")}`] : []),
    ...(apps.some((a) => a.access.requireMfa)
      ? ["  mfa        the login asks for a second factor: the policy requires authMethod mfa"]
      : []),
    ...(unemulated.length > 0
      ? [
          `  not emulated, treated as satisfied (an include admits anyone, a require is met, an exclude keeps nobody out): ${unemulated.join(", ")}`,
        ]
      : []),
  ];
}

/** One API's doctor command, as printed and as the control channel reports it. */
interface DoctorLine {
  hostname: string;
  command: string;
  tokenFile: string;
}

function doctorLines(lab: Lab, doctors: DoctorLine[]): string[] {
  const several = doctors.length > 1;
  return doctors.flatMap(({ hostname, command, tokenFile }) => {
    const token = lab.apiToken(hostname);
    return [
      `Check ${several ? hostname : "the API"} with the CORS doctor, as ${token.email} logged in to ${token.host} (token in ${displayPath(tokenFile)}):`,
      `  ${command}`,
    ];
  });
}

function printWelcome(lab: Lab, browserArgs: string[], doctors: DoctorLine[]): void {
  const chromium = findChromium() ?? "chromium";
  const url = lab.frontendUrl();
  process.stdout.write(
    [
      "",
      `access-bridge lab: ${lab.active().scenario.title}`,
      `  open       ${url}`,
      `  listening  https://127.0.0.1:${lab.port} for ${lab.hosts.join(", ")}`,
      ...peopleLines(lab),
      ...managedFrontendLines(lab),
      ...upstreamLines(lab),
      "",
      "The names must resolve to the lab, so open it in Chromium or Chrome started like this:",
      `  ${commandLine(chromium, [...browserArgs, url])}`,
      "",
      ...doctorLines(lab, doctors),
      "Without --access-token it shows what a browser that is not logged in to the API gets.",
      "",
      `Scenarios (switch on the page): ${lab.scenarios.map((s) => s.name).join(", ")}`,
      "Ctrl-C stops the lab.",
      "",
    ].join("\n"),
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(help);
    return;
  }
  const args = parseArgs(argv);
  if (args.configFile === undefined) checkStack(args.stack, knownStacks());
  else if (!existsSync(args.configFile)) throw new UsageError(`there is no ${args.configFile}`);
  // With --ephemeral a temporary folder stands in for .lab/, removed on exit.
  const stateDir = args.ephemeral
    ? mkdtempSync(path.join(tmpdir(), "access-bridge-lab-"))
    : path.join(__dirname, "..", ".lab");
  if (args.ephemeral) {
    process.once("exit", () => rmSync(stateDir, { recursive: true, force: true }));
  }
  const files = labFiles(stateDir, args.stack);
  // A dev server that is not running would otherwise show up as a 502 in
  // the browser much later; say so now, with the flag to fix.
  const unanswered = await checkUpstreams(upstreamsOf(args));
  if (unanswered.length > 0) throw new UpstreamError(unanswered);
  process.stdout.write(
    `Declaring the ${args.stack} stack with the real program and starting the lab…\n`,
  );
  const lab = await startLab({
    stack: args.stack,
    configFile: args.configFile,
    port: args.port,
    scenario: args.scenario,
    ...(args.frontend !== undefined ? { frontend: args.frontend } : {}),
    ...(args.api !== undefined ? { api: args.api } : {}),
    certificate: async (hosts) => {
      if (!args.ephemeral) return cachedCertificate(stateDir, args.stack, hosts);
      const certificate = await newCertificate(hosts);
      writeFileSync(files.cert, certificate.cert);
      return { ...certificate, file: files.cert };
    },
    // Under a parent process (the tests), the control channel's log says it instead.
    ...(process.send ? {} : { onCertificateRefused: certificateRefusedNotice() }),
    // Each call's line from the Worker, as Workers Logs would show it.
    ...(process.send ? {} : { onWorkerLog: (line) => process.stdout.write(`worker ${line}\n`) }),
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

  // Each token is for an API app of the scenario the lab starts with; every
  // scenario of a stack declares the same apps, so they stay valid on switching.
  const active = lab.active();
  const doctors: DoctorLine[] = active.topology.apis.map((api, i) => {
    const hostname = api.app.hostname;
    const tokenFile = files.apiTokenFor(hostname, i);
    writeFileSync(tokenFile, lab.apiToken(hostname).token, { mode: 0o600 });
    const command = labDoctorCommand({
      port: lab.port,
      apiHost: hostname,
      frontendHost: active.topology.frontend.hostname,
      routePrefix: api.routePrefix,
      probeHeader: active.probeHeaders[hostname] ?? null,
      certFile: files.cert,
      tokenFile,
    });
    return { hostname, command, tokenFile };
  });

  if (process.send) {
    const send = process.send.bind(process);
    process.once("disconnect", stop);
    serveControl(lab, (message) => send(message), {
      certFile: files.cert,
      doctors: doctors.map((d) => d.command),
    });
    return;
  }

  // One profile per stack: Chromium keeps the flags of the process that
  // first opened a profile, so a window for one stack's lab cannot serve another's.
  prepareProfile(files.profile);
  const browserArgs = [
    `--user-data-dir=${files.profile}`,
    "--no-first-run",
    ...labFlags({ port: lab.port, hosts: lab.hosts, spki: lab.certificate.spki }),
  ];
  printWelcome(lab, browserArgs, doctors);

  if (args.open) {
    const chromium = findChromium();
    const display = process.env["DISPLAY"] || process.env["WAYLAND_DISPLAY"];
    if (!display || chromium === undefined) {
      process.stdout.write("--open: no display or no Chromium found; use the command above.\n");
    } else {
      const rootFlags = process.getuid?.() === 0 ? ["--no-sandbox"] : [];
      spawn(chromium, [...browserArgs, ...rootFlags, lab.frontendUrl()], {
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
    if (err instanceof UpstreamError) {
      for (const reason of err.reasons) process.stderr.write(`npm start: ${reason}\n`);
      process.stderr.write(
        "Start it first, or leave the flag out to use the lab's demo front end or API.\n",
      );
      process.exit(1);
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
