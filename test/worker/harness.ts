import { createHash, createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { bundleWorker, compatibilityDate } from "../../worker/build";

export const API_HOSTNAME = "api.mysite.com";
export const TEAM_DOMAIN = "myteam.cloudflareaccess.com";
export const ISSUER = `https://${TEAM_DOMAIN}`;
export const AUD = "aud-tag-0123456789abcdef";
export const CLIENT_ID = "client-id-7f3a9c.access";
export const CLIENT_SECRET = "client-secret-5b1e8d2c4a6f";
export const FRONTEND = "https://app.mysite.com";
export const CERTS_URL = `https://${TEAM_DOMAIN}/cdn-cgi/access/certs`;

/** The Worker's identity key pair: the private half is a binding, the public half the JWKS an API verifies with. */
export const identityKey = (() => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  const kid = createHash("sha256")
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest("base64url");
  return {
    pkcs8: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    jwks: JSON.stringify({ keys: [{ ...jwk, kid, alg: "EdDSA", use: "sig" }] }),
    kid,
  };
})();

/**
 * Raw paths that one more percent-decoding or Unicode normalisation (NFKC)
 * turns into a step out of the prefix: `%2%65` is `%2e` once decoded,
 * U+FF05 (`%EF%BC%85`) and U+FE6A (`%EF%B9%AA`) are `%`, U+FE30 is `..`.
 */
export const REDECODED_TRAVERSALS = [
  "/api/%2%65%2%65/admin",
  "/api/%%32%65%%32%65/admin",
  "/api/..%2%66admin",
  "/api/%EF%BC%852e%EF%BC%852e/admin",
  "/api/%EF%B9%AA2e%EF%B9%AA2e/admin",
  "/api/%EF%B8%B0/admin",
  "/api/%ef%b9%aa",
  "/api/..%%35%63admin",
  "/api/..%3b/admin",
];

export const baseBindings: Record<string, string> = {
  CF_ACCESS_CLIENT_ID: CLIENT_ID,
  CF_ACCESS_CLIENT_SECRET: CLIENT_SECRET,
  IDENTITY_SIGNING_KEY: identityKey.pkcs8,
  API_HOSTNAME,
  ACCESS_TEAM_DOMAIN: TEAM_DOMAIN,
  ACCESS_AUD: AUD,
};

let cachedBundle: string | undefined;
/** The bundle exactly as `npm run build:worker` writes it. */
export function ourWorker(): string {
  cachedBundle ??= bundleWorker();
  return cachedBundle;
}

export function guideWorker(): string {
  return readFileSync(path.join(__dirname, "..", "fixtures", "guide-worker.js"), "utf8");
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export function newSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, jwk };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = (): number => Math.floor(Date.now() / 1000);

export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: [AUD],
    iss: ISSUER,
    email: "ada@mysite.com",
    sub: "user-1",
    iat: now() - 10,
    nbf: now() - 10,
    exp: now() + 600,
    ...overrides,
  };
}

/** An RS256 JWT as Access issues it. */
export function signJwt(
  key: SigningKey,
  payload: Record<string, unknown> = claims(),
  header: Record<string, unknown> = {},
): string {
  const input = `${b64url({ alg: "RS256", typ: "JWT", kid: key.kid, ...header })}.${b64url(payload)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key.privateKey).toString("base64url")}`;
}

/** An HS256 token keyed with the public key: the classic algorithm-confusion forgery. */
export function signHs256WithPublicKey(key: SigningKey, payload = claims()): string {
  const input = `${b64url({ alg: "HS256", typ: "JWT", kid: key.kid })}.${b64url(payload)}`;
  const secret = JSON.stringify(key.jwk);
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

export function unsignedJwt(key: SigningKey, payload = claims()): string {
  return `${b64url({ alg: "none", typ: "JWT", kid: key.kid })}.${b64url(payload)}.`;
}

/** Headers as a plain object (lower-case names). */
export function headerObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

export const sha256 = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("hex");

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * What the API stub answers: a Response, or (over HTTP only) what no Response
 * can be: a status line outside 200..599, or the connection dropped.
 */
export type ApiAnswer = Response | { rawStatus: number; body: string } | "drop";

export type ApiHandler = (request: RecordedRequest) => ApiAnswer | Promise<ApiAnswer>;

export interface Harness {
  mf: Miniflare;
  /** Every request that reached the API stub. */
  apiCalls: RecordedRequest[];
  /** How many times the keys endpoint was fetched. */
  certsFetches: number;
  /** Requests to any other host: must stay empty. */
  unexpected: string[];
  /** Lines the Worker wrote with console.*. */
  logs: { level: string; message: string }[];
  /** What the Worker wrote to a stub `ANALYTICS` binding (see `analytics`), in order. */
  dataPoints: unknown[];
  /** Replaced per test; defaults to a 200 JSON answer. */
  api: ApiHandler;
  /** `false` makes the keys endpoint answer 503. */
  certsUp: boolean;
  /** When set, the keys endpoint holds every answer until it settles. */
  certsGate: Promise<void> | undefined;
  /** The key set the keys endpoint serves. */
  jwks: { keys: Record<string, unknown>[] };
  /** Sends a request to the main Worker, or to the named variant. */
  fetch(
    path: string,
    init?: RequestInit & { jwt?: string | null; worker?: string },
  ): Promise<Response>;
  reset(): void;
  dispose(): Promise<void>;
}

export const defaultApi: ApiHandler = () =>
  new Response(JSON.stringify({ ok: true }), { headers: { "content-type": "application/json" } });

export interface StartOptions {
  script?: string;
  bindings?: Record<string, string>;
  keys: SigningKey[];
  /**
   * Makes every API request fail at the network level (socket destroyed),
   * after recording its method and headers. Any method gets that far, even
   * one Node's fetch would refuse to build (`TRACE`).
   */
  apiNetworkFailure?: boolean;
  /**
   * Serves `harness.api` over HTTP, as workerd reaches a real API, instead
   * of as a function: only then does the runtime decode a compressed answer
   * when the Worker reads its body.
   */
  apiOverHttp?: boolean;
  /** A stub Analytics Engine dataset bound as `ANALYTICS`: one that records, or one that throws. */
  analytics?: AnalyticsStub;
  /**
   * More Workers in the same workerd process, each its own isolate (so its
   * own key and token caches), sharing the stubs. Cheaper than more instances.
   */
  variants?: Record<
    string,
    { script?: string; bindings?: Record<string, string>; analytics?: AnalyticsStub }
  >;
}

export type AnalyticsStub = "record" | "throw";

/** What the recording stub writes each data point after, on its own console level. */
const DATA_POINT_MARK = "analytics-stub ";

/**
 * Analytics Engine datasets as wrapped bindings: modules that run in the
 * Worker's isolate and hand it an object with `writeDataPoint`. The
 * recording one reports each point on `console.debug`, synchronously, which
 * the harness takes out of the Worker's own log lines.
 */
const analyticsStubs: Record<AnalyticsStub, string> = {
  record: `export default () => ({ writeDataPoint(point) { console.debug(${JSON.stringify(DATA_POINT_MARK)} + JSON.stringify(point)); } });`,
  throw: `export default () => ({ writeDataPoint() { throw new Error("the dataset is down"); } });`,
};

/** Reads the request's body into `recorded`, then writes `api`'s answer to it on `res`. */
async function answerOverHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  recorded: RecordedRequest,
  api: ApiHandler,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  recorded.body = Buffer.concat(chunks);
  const response = await api(recorded);
  if (response === "drop") {
    req.socket.destroy();
    return;
  }
  if (!(response instanceof Response)) {
    res.writeHead(response.rawStatus);
    res.end(response.body);
    return;
  }
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  res.writeHead(response.status, response.statusText);
  res.end(Buffer.from(await response.arrayBuffer()));
}

/**
 * Runs a Worker in workerd with every outbound request routed here: the API
 * host is recorded and answered by `harness.api`, the keys endpoint serves
 * `harness.jwks`, and any other host is recorded as unexpected and gets 599.
 */
export async function startWorker(options: StartOptions): Promise<Harness> {
  const harness = {
    apiCalls: [] as RecordedRequest[],
    certsFetches: 0,
    unexpected: [] as string[],
    logs: [] as { level: string; message: string }[],
    dataPoints: [] as unknown[],
    api: defaultApi,
    certsUp: true,
    jwks: { keys: options.keys.map((k) => k.jwk) },
  } as Harness;

  const certsResponse = (): Response =>
    harness.certsUp
      ? new Response(JSON.stringify(harness.jwks), {
          headers: { "content-type": "application/json" },
        })
      : new Response("unavailable", { status: 503 });

  const record = async (request: Request): Promise<RecordedRequest> => ({
    method: request.method,
    url: request.url,
    headers: headerObject(request.headers),
    body: Buffer.from(await request.arrayBuffer()),
  });

  const outboundService =
    options.apiNetworkFailure || options.apiOverHttp
      ? {
          node: (
            req: import("node:http").IncomingMessage,
            res: import("node:http").ServerResponse,
          ) => {
            const host = req.headers.host ?? "";
            if (host === TEAM_DOMAIN && req.url === "/cdn-cgi/access/certs") {
              harness.certsFetches++;
              res.statusCode = harness.certsUp ? 200 : 503;
              res.setHeader("content-type", "application/json");
              res.end(harness.certsUp ? JSON.stringify(harness.jwks) : "{}");
            } else if (host === API_HOSTNAME) {
              const recorded: RecordedRequest = {
                method: req.method ?? "",
                url: `?://${host}${req.url ?? ""}`,
                headers: Object.fromEntries(
                  Object.entries(req.headers).map(([name, value]) => [name, String(value)]),
                ),
                body: Buffer.alloc(0),
              };
              harness.apiCalls.push(recorded);
              if (options.apiNetworkFailure) req.socket.destroy();
              else void answerOverHttp(req, res, recorded, harness.api);
            } else {
              harness.unexpected.push(`${host}${req.url ?? ""}`);
              res.statusCode = 599;
              res.end();
            }
          },
        }
      : async (request: Request): Promise<Response> => {
          const url = new URL(request.url);
          if (url.href === CERTS_URL && request.method === "GET") {
            harness.certsFetches++;
            await harness.certsGate;
            return certsResponse();
          }
          if (url.host === API_HOSTNAME) {
            const recorded = await record(request);
            harness.apiCalls.push(recorded);
            const answer = await harness.api(recorded);
            if (!(answer instanceof Response)) throw new Error("raw answers need apiOverHttp");
            return answer;
          }
          harness.unexpected.push(request.url);
          return new Response("unexpected host", { status: 599 });
        };

  const worker = (
    name: string,
    script: string | undefined,
    bindings: Record<string, string> | undefined,
    analytics: AnalyticsStub | undefined,
  ) => ({
    name,
    modules: [{ type: "ESModule" as const, path: "index.js", contents: script ?? ourWorker() }],
    compatibilityDate,
    bindings: bindings ?? baseBindings,
    outboundService: outboundService as never,
    ...(analytics
      ? { wrappedBindings: { ANALYTICS: { scriptName: `analytics-${analytics}` } } }
      : {}),
  });
  const mf = new Miniflare({
    workers: [
      worker("main", options.script, options.bindings, options.analytics),
      ...Object.entries(options.variants ?? {}).map(([name, v]) =>
        worker(name, v.script ?? options.script, v.bindings, v.analytics),
      ),
      // A wrapped binding's module takes the compatibility date of the Worker it is bound to.
      ...Object.entries(analyticsStubs).map(([kind, script]) => ({
        name: `analytics-${kind}`,
        modules: true,
        script,
      })),
    ],
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      if (level === "debug" && message.startsWith(DATA_POINT_MARK)) {
        harness.dataPoints.push(JSON.parse(message.slice(DATA_POINT_MARK.length)));
      } else {
        harness.logs.push({ level, message });
      }
    },
  });
  await mf.ready;

  harness.mf = mf;
  harness.fetch = async (pathname, init = {}) => {
    const { jwt, worker: name, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (jwt) headers.set("cf-access-jwt-assertion", jwt);
    const requestInit = { ...(rest as object), headers, redirect: "manual" } as never;
    const url = `${FRONTEND}${pathname}`;
    const response =
      name === undefined
        ? await mf.dispatchFetch(url, requestInit)
        : await (await mf.getWorker(name)).fetch(url, requestInit);
    return response as unknown as Response;
  };
  harness.reset = () => {
    harness.apiCalls.length = 0;
    harness.logs.length = 0;
    harness.dataPoints.length = 0;
    harness.api = defaultApi;
    harness.certsUp = true;
    harness.certsGate = undefined;
  };
  harness.dispose = () => mf.dispose();
  return harness;
}

/**
 * Sends a request with its path exactly as written, bypassing client-side URL
 * normalisation; it also shows the headers as they go on the wire, which
 * `dispatchFetch` does not (it drops `Content-Length`).
 */
export async function rawRequest(
  h: Harness,
  rawPath: string,
  headers: Record<string, string>,
  method = "GET",
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; bytes: Buffer }> {
  const base = await h.mf.ready;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path: rawPath, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes.toString(),
            bytes,
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * {@link rawRequest} as if sent to the front end (`FRONTEND` + the raw path),
 * to the main Worker or the named variant.
 */
export function rawFrontendRequest(
  h: Harness,
  worker: string | undefined,
  rawPath: string,
  headers: Record<string, string>,
  method = "GET",
  body?: string,
): ReturnType<typeof rawRequest> {
  const routing: Record<string, string> = { "MF-Original-URL": `${FRONTEND}${rawPath}` };
  if (worker !== undefined) routing["MF-Route-Override"] = worker;
  return rawRequest(h, rawPath, { ...headers, ...routing }, method, body);
}

/**
 * Waits until `done()` holds: for things the Worker does in the background,
 * such as starting a keys fetch. Fails the test when it never does.
 */
export async function waitUntil(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("condition never held");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits for a Worker log line. workerd's logs reach Node through its stdout,
 * so they can arrive after the response does.
 */
export async function waitForLog(
  h: Harness,
  matches: (line: { level: string; message: string }) => boolean,
  timeoutMs = 3000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!h.logs.some(matches)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The body of every answer the Worker gives itself. */
export interface ErrorBody {
  error: string;
  reason: string;
  requestId: string;
}

function expectErrorBody(body: unknown, reason?: string): ErrorBody {
  const shaped = body as ErrorBody;
  expect(Object.keys(shaped).sort()).toEqual(["error", "reason", "requestId"]);
  expect(typeof shaped.error).toBe("string");
  expect(typeof shaped.reason).toBe("string");
  expect(typeof shaped.requestId).toBe("string");
  if (reason !== undefined) expect(shaped.reason).toBe(reason);
  return shaped;
}

/**
 * Asserts the shape every error shares: JSON `{error, reason, requestId}`,
 * uncacheable, same-origin only; with `reason`, that it is that one.
 */
export async function expectJsonError(
  response: Response,
  status: number,
  reason?: string,
): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
  return expectErrorBody(await response.json(), reason).requestId;
}

/** {@link expectJsonError} for a {@link rawRequest} answer. */
export function expectRawJsonError(
  response: { status: number; headers: http.IncomingHttpHeaders; body: string },
  status: number,
  reason?: string,
): string {
  expect(response.status).toBe(status);
  expect(response.headers["content-type"]).toBe("application/json");
  expect(response.headers["cache-control"]).toBe("no-store");
  expect(response.headers["cross-origin-resource-policy"]).toBe("same-origin");
  return expectErrorBody(JSON.parse(response.body), reason).requestId;
}

/** One of the Worker's per-request log lines, as it wrote it. */
export type LogLine = Record<string, unknown> & { reason: string; status: number };

/** The Worker's log lines so far: its `console.log` output that parses as a JSON object. */
export function logLines(h: Harness): LogLine[] {
  return h.logs.flatMap(({ level, message }) => {
    if (level !== "log") return [];
    try {
      const parsed = JSON.parse(message) as unknown;
      return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
        ? [parsed as LogLine]
        : [];
    } catch {
      return [];
    }
  });
}

/**
 * The log line of the request with `requestId`, once it arrives (workerd's
 * output reaches Node after the response may have). Fails when none does,
 * or when more than one does.
 */
export async function logLineOf(h: Harness, requestId: string): Promise<LogLine> {
  const ofRequest = () => logLines(h).filter((l) => l.requestId === requestId);
  await waitUntil(() => ofRequest().length > 0, 3000);
  // A second line would come with the first: workerd writes them in order.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const lines = ofRequest();
  expect(lines).toHaveLength(1);
  return lines[0]!;
}
