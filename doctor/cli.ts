/**
 * access-bridge-doctor: a browser's CORS verdict on a live API, or on a HAR
 * capture, with the fix in this stack's terms.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { accessTokenArg, doctorCommand, routePrefixArgs, shellQuote } from "./command";
import type { CorsRequest } from "./cors-check";
import { HarError, harSecrets, parseHar, triageHar } from "./har";
import { runLive, UnreachableError, type Login } from "./live";
import { redactUrl, scrub } from "./redact";
import { renderHarJson, renderHarText, renderLiveJson, renderLiveText } from "./report";
import { checkRoutePrefix } from "../worker/src/env";
import {
  parseResolve,
  ruleFor,
  urlPort,
  type ConnectOptions,
  type ResolveRule,
  type Transport,
} from "./transport";

export const EXIT = { allowed: 0, blocked: 1, usage: 2 } as const;

export const USAGE = `Usage:
  access-bridge-doctor --url <api url> --origin <page origin> [--method M]
                       [--header NAME | --header 'NAME: value']... [--credentials]
                       [--access-token JWT] [--cookie NAME=VALUE]...
                       [--resolve HOST:PORT:ADDRESS]... [--cacert FILE]
                       [--route-prefix PREFIX] [--preflight-only] [--json]
  access-bridge-doctor --har <capture.har> [--route-prefix PREFIX] [--json]

Live check: sends the preflight a browser would send (OPTIONS, no cookies,
no Access token, redirects not followed), then the actual request (skipped
if the preflight fails, or with --preflight-only), and applies the browser's
CORS checks. The actual request really is sent with --method: mind
non-idempotent methods.

HAR triage: lists the cross-origin requests in a browser capture that failed,
whose preflight failed, or that were redirected to the Access login, and
the requests on the stack's own route that failed (an ended session, a
refused service token), and explains each. Cookies, Authorization and Access
credentials are redacted.

Options:
  --url URL             the API URL the page calls
  --origin ORIGIN       the page's origin, e.g. https://app.example.com
  --method M            request method (default GET)
  --header H            a header the page sets; repeatable. A name alone, or
                        'Name: value' (the value matters for Content-Type/Range)
  --credentials         the page uses credentials: 'include' (cookies)
  --access-token JWT    a logged-in person's Access token for the API, sent as
                        cf-access-token on the actual request (Access accepts it
                        in place of its cookie). Get one with
                        cloudflared access token -app=<api url>. Implies --credentials
  --cookie NAME=VALUE   a cookie the browser holds for the API, sent on the
                        actual request; repeatable. Implies --credentials
  --resolve H:P:A       connect to address A for host H and port P, as curl's
                        --resolve does (the URL, Host and TLS name stay H)
  --cacert FILE         also trust the PEM certificate(s) in FILE
  --route-prefix P      the routePrefix of the stack's Worker for this API
                        (default /api), so that fixes name its route,
                        https://<origin>P/*; each API of a stack has its own
  --preflight-only      do not send the actual request
  --har FILE            triage a HAR 1.2 capture instead of a live check
  --json                machine-readable output
  --help                this text

Tokens and cookie values are never printed.

Exit codes: 0 a browser would allow it, 1 it would not, or the doctor could
            not judge it (an Access-protected API and no login given),
            2 usage error, unreachable host or unreadable HAR.
`;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile?: (path: string) => string;
  /** Replaces the network, for tests. */
  transport?: Transport;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Methods a browser upper-cases (Fetch: normalize a method); others are sent as written. */
const NORMALIZED_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

export function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.includes(upper) ? upper : method;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseHeaderArg(arg: string): { name: string; value?: string } {
  const colon = arg.indexOf(":");
  const name = (colon < 0 ? arg : arg.slice(0, colon)).trim();
  if (!TOKEN.test(name))
    throw new UsageError(`--header: not a header name: ${JSON.stringify(name)}`);
  return colon < 0 ? { name } : { name, value: arg.slice(colon + 1).trim() };
}

/** The page's origin exactly as a browser serializes it. */
export function parseOrigin(arg: string): string {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new UsageError(`--origin: not a URL: ${arg}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--origin: must be http or https: ${arg}`);
  }
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
    throw new UsageError(`--origin: an origin has no path: use ${url.origin}`);
  }
  return url.origin;
}

function parseUrl(arg: string): string {
  try {
    const url = new URL(arg);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // reported below
  }
  throw new UsageError(`--url: not an http(s) URL: ${arg}`);
}

export interface ParsedArgs {
  mode: "help" | "live" | "har";
  json: boolean;
  har?: string;
  request?: CorsRequest;
  preflightOnly: boolean;
  login?: Login;
  resolve?: ResolveRule[];
  /** The --cacert path as given; read in main(). */
  cacert?: string;
  /** The --resolve/--cacert arguments as given, for a rerun command. */
  connectArgs?: string[];
  /** The stack's Worker route prefix for this API, as given with --route-prefix. */
  routePrefix?: string;
}

/** A route prefix as the program takes one: `/api`, `/v1/billing`; no wildcard, no trailing slash. */
export function parseRoutePrefix(arg: string): string {
  const checked = checkRoutePrefix(arg);
  if (!checked.ok) {
    throw new UsageError(
      `--route-prefix: expected a path like /api (the stack's routePrefix, no wildcard), got ${JSON.stringify(arg)}`,
    );
  }
  return checked.value;
}

/** `name=value`, or several joined by `;` as a Cookie header has them. */
export function parseCookieArg(arg: string): string[] {
  const pairs = arg
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (pairs.length === 0) throw new UsageError("--cookie: expected NAME=VALUE");
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? "" : pair.slice(0, eq).trim();
    if (!TOKEN.test(name)) {
      throw new UsageError(
        `--cookie: expected NAME=VALUE, got ${JSON.stringify(pair.slice(0, 40))}`,
      );
    }
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(pair)) throw new UsageError(`--cookie ${name}: control characters`);
  }
  return pairs;
}

/** A token goes into a header: one line of visible characters. */
export function parseAccessToken(arg: string): string {
  const token = arg.trim();
  if (token === "") {
    throw new UsageError(
      "--access-token is empty: did the command that prints it fail? (cloudflared access token -app=<api url>)",
    );
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError("--access-token: a token is one word of visible characters");
  }
  return token;
}

export function parseCli(argv: string[]): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: "string" },
        origin: { type: "string" },
        method: { type: "string", default: "GET" },
        header: { type: "string", multiple: true, default: [] },
        credentials: { type: "boolean", default: false },
        "access-token": { type: "string" },
        cookie: { type: "string", multiple: true, default: [] },
        resolve: { type: "string", multiple: true, default: [] },
        cacert: { type: "string" },
        "route-prefix": { type: "string" },
        "preflight-only": { type: "boolean", default: false },
        har: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const json = values.json;
  const preflightOnly = values["preflight-only"];
  if (values.help) return { mode: "help", json, preflightOnly };
  const routePrefix =
    values["route-prefix"] !== undefined ? parseRoutePrefix(values["route-prefix"]) : undefined;
  const liveOnly = [
    values["access-token"] !== undefined && "--access-token",
    values.cookie.length > 0 && "--cookie",
    values.resolve.length > 0 && "--resolve",
    values.cacert !== undefined && "--cacert",
  ].filter((f): f is string => typeof f === "string");
  if (values.har !== undefined) {
    if (values.url !== undefined || values.origin !== undefined || liveOnly.length > 0) {
      throw new UsageError(
        `--har cannot be combined with ${["--url/--origin", ...liveOnly].join(", ")}`,
      );
    }
    return { mode: "har", json, har: values.har, preflightOnly, routePrefix };
  }
  if (values.url === undefined || values.origin === undefined) {
    throw new UsageError("a live check needs --url and --origin (or use --har FILE)");
  }
  const method = values.method.trim();
  if (!TOKEN.test(method)) throw new UsageError(`--method: not a method: ${values.method}`);
  const headers = values.header.map(parseHeaderArg);
  const hasCookie = headers.some((h) => h.name.toLowerCase() === "cookie");
  if (hasCookie && !values.credentials) {
    throw new UsageError("--header cookie: a browser sends cookies only with --credentials");
  }
  const login: Login = {
    ...(values["access-token"] !== undefined
      ? { accessToken: parseAccessToken(values["access-token"]) }
      : {}),
    cookies: values.cookie.flatMap(parseCookieArg),
  };
  const url = parseUrl(values.url);
  const resolve = values.resolve.map((arg) => {
    try {
      return parseResolve(arg);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  if (resolve.length > 0 && ruleFor(new URL(url), resolve) === undefined) {
    const u = new URL(url);
    throw new UsageError(
      `--resolve: no rule for ${u.hostname}:${urlPort(u)}, the host and port --url connects to (curl matches both)`,
    );
  }
  const connectArgs = [
    ...values.resolve.flatMap((r) => ["--resolve", r]),
    ...(values.cacert !== undefined ? ["--cacert", shellQuote(values.cacert)] : []),
  ];
  return {
    mode: "live",
    json,
    preflightOnly,
    login,
    resolve,
    connectArgs,
    routePrefix,
    ...(values.cacert !== undefined ? { cacert: values.cacert } : {}),
    request: {
      url,
      origin: parseOrigin(values.origin),
      method: normalizeMethod(method),
      headers,
      // A login stands in for the cookie a browser sends only with credentials: 'include'.
      credentials:
        values.credentials || login.accessToken !== undefined || login.cookies.length > 0,
    },
  };
}

/** Values given on the command line that must never be echoed back. */
function cliSecrets(req: CorsRequest, login: Login | undefined): string[] {
  const fromHeaders = req.headers
    .filter((h) => /^(cookie|authorization|cf-access-)/i.test(h.name) && h.value !== undefined)
    .map((h) => h.value ?? "");
  const values = [
    ...fromHeaders,
    ...(login?.cookies ?? []),
    ...(login?.accessToken !== undefined ? [login.accessToken] : []),
  ];
  return values.flatMap((value) => {
    // The parts of `Bearer <token>` and of `a=1; b=2`, but never a cookie's name.
    const parts = value.split(/[;\s]+/).filter((p) => p.length >= 8);
    const cookieValues = value
      .split(";")
      .map((pair) => pair.slice(pair.indexOf("=") + 1).trim())
      .filter((v) => v.length > 0);
    return [value, ...parts, ...cookieValues];
  });
}

/** The PEM text of --cacert, or a usage error that says what is wrong with the file. */
function readCacert(path: string, io: Io): string {
  const read = io.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  let pem: string;
  try {
    pem = read(path);
  } catch (err) {
    throw new UsageError(`--cacert: cannot read ${path}: ${(err as Error).message}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(
      `--cacert: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return pem;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let args: ParsedArgs;
  let connect: ConnectOptions | undefined;
  try {
    args = parseCli(argv);
    if (args.mode === "live") {
      connect = {
        resolve: args.resolve ?? [],
        ...(args.cacert !== undefined ? { ca: readCacert(args.cacert, io) } : {}),
      };
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`access-bridge-doctor: ${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    throw err;
  }
  if (args.mode === "help") {
    io.stdout(USAGE);
    return EXIT.allowed;
  }
  if (args.mode === "har") return runHar(args.har ?? "", args.json, io, args.routePrefix);

  const request = args.request;
  if (request === undefined) throw new Error("live mode without a request");
  const secrets = cliSecrets(request, args.login);
  try {
    const result = await runLive({
      request,
      login: args.login,
      connect,
      preflightOnly: args.preflightOnly,
      routePrefix: args.routePrefix,
      transport: io.transport,
    });
    const context = {
      preflightOnly: args.preflightOnly,
      login: args.login,
      rerunWithLogin: doctorCommand(request, [
        ...(args.connectArgs ?? []),
        ...routePrefixArgs(args.routePrefix),
        accessTokenArg(request.url),
      ]),
    };
    io.stdout(
      args.json
        ? renderLiveJson(request, result.diagnosis, result.exchanges, secrets, context)
        : renderLiveText(request, result.diagnosis, result.exchanges, secrets, context),
    );
    return result.diagnosis.verdict === "allowed" ? EXIT.allowed : EXIT.blocked;
  } catch (err) {
    if (err instanceof UnreachableError) {
      const message = scrub(`cannot reach ${redactUrl(err.url)}: ${err.reason}`, secrets);
      if (args.json) {
        const report = { mode: "live", verdict: "unreachable", error: message };
        io.stdout(JSON.stringify(report, null, 2) + "\n");
      }
      io.stderr(`access-bridge-doctor: ${message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

function runHar(file: string, json: boolean, io: Io, routePrefix?: string): number {
  const read = io.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    io.stderr(`access-bridge-doctor: cannot read ${file}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  try {
    const har = parseHar(text);
    const triage = triageHar(har, { routePrefix });
    const secrets = harSecrets(har);
    io.stdout(json ? renderHarJson(file, triage, secrets) : renderHarText(file, triage, secrets));
    return triage.items.length === 0 ? EXIT.allowed : EXIT.blocked;
  } catch (err) {
    if (err instanceof HarError) {
      io.stderr(`access-bridge-doctor: ${file}: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

/** Wires main() to the process; used by `npm run doctor` and by bin.js. */
export function run(): void {
  main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`access-bridge-doctor: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = EXIT.usage;
    },
  );
}

if (require.main === module) run();
