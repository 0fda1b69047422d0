/**
 * Builds the HAR fixtures from real exchanges with the local servers: each
 * request goes through the live check's own sender, then is written down the
 * way Chromium's DevTools exports it (a failed preflight leaves the actual
 * request as status 0 with `_error`). Ports and dates are normalised so the
 * files are stable.
 *
 *   npx ts-node --transpile-only test/doctor/support/har-fixtures.ts
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { CorsRequest, HeaderField } from "../../../doctor/cors-check";
import type { Har, HarEntry, HarNameValue } from "../../../doctor/har";
import { runLive } from "../../../doctor/live";
import { ORIGIN, SCENARIOS } from "./scenarios";
import { startServer, type Behaviour } from "./servers";

export const FIXTURE_DIR = path.join(__dirname, "..", "..", "fixtures", "har");
export const API = "https://api.example.com";
export const PAGE_URL = `${ORIGIN}/dashboard`;
const FIXED_DATE = "Wed, 25 Nov 2026 12:00:00 GMT";
const START = Date.parse("2026-11-25T12:00:00.000Z");
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36";

/** Fake secrets planted in secrets.har; none may ever appear in the doctor's output. */
export const PLANTED = {
  cookie: "cookie-secret-Q7f3k9",
  clientId: "client-id-K3v9p1.access",
  clientSecret: "client-secret-Z8x2m4",
  bearer: "bearer-token-H5n2w8",
  query: "query-secret-R4t6y1",
  setCookie: "set-cookie-secret-M2b7c5",
} as const;

interface Recorded {
  phase: "preflight" | "actual";
  method: string;
  url: string;
  requestHeaders: HeaderField[];
  status: number;
  responseHeaders: HeaderField[];
  error?: string;
}

const scenario = (name: string): Behaviour => {
  const s = SCENARIOS.find((x) => x.name.startsWith(name));
  if (s === undefined) throw new Error(`no scenario ${name}`);
  return s.behaviour;
};

/**
 * Sends `request` to a fresh server with `behaviour`, as the live check would.
 * A credentialed request carries the browser's cookie for the API unless the
 * user never logged in there (`loggedIn: false`).
 */
async function record(
  behaviour: Behaviour,
  pathAndQuery: string,
  base: Omit<CorsRequest, "url">,
  loggedIn = true,
) {
  const hasCookie = base.headers.some((h) => h.name.toLowerCase() === "cookie");
  const request =
    base.credentials && loggedIn && !hasCookie
      ? {
          ...base,
          headers: [...base.headers, { name: "Cookie", value: "CF_Authorization=fixture-session" }],
        }
      : base;
  const server = await startServer(behaviour);
  try {
    const { exchanges } = await runLive({
      request: { ...request, url: `${server.base}${pathAndQuery}` },
    });
    const recorded: Recorded[] = exchanges.map((e) => ({
      phase: e.phase,
      method: e.method,
      url: `${API}${pathAndQuery}`,
      requestHeaders: e.requestHeaders,
      status: e.response.status,
      responseHeaders: e.response.headers,
    }));
    if (!recorded.some((r) => r.phase === "actual")) {
      // The browser never sent it, but DevTools still lists it as failed.
      recorded.push({
        phase: "actual",
        method: request.method,
        url: `${API}${pathAndQuery}`,
        requestHeaders: [
          { name: "Origin", value: request.origin },
          ...request.headers
            .filter((h) => h.name.toLowerCase() !== "cookie" || request.credentials)
            .map((h) => ({ name: h.name, value: h.value ?? "doctor" })),
        ],
        status: 0,
        responseHeaders: [],
        error: "net::ERR_FAILED",
      });
    }
    return recorded;
  } finally {
    await server.close();
  }
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "date"]);

function toEntry(r: Recorded, index: number): HarEntry {
  const url = new URL(r.url);
  const browserHeaders: HeaderField[] = [
    { name: "Accept", value: "*/*" },
    { name: "Referer", value: `${PAGE_URL}` },
    { name: "Sec-Fetch-Mode", value: "cors" },
    { name: "User-Agent", value: USER_AGENT },
  ];
  const requestHeaders = [...r.requestHeaders, ...browserHeaders];
  const cookieHeader = requestHeaders.find((h) => h.name.toLowerCase() === "cookie")?.value;
  // Sorted by name, as DevTools lists them, so the files do not follow the server's order.
  const responseHeaders = r.responseHeaders
    .filter((h) => !HOP_BY_HOP.has(h.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (r.status !== 0) responseHeaders.push({ name: "date", value: FIXED_DATE });
  const location = responseHeaders.find((h) => h.name === "location")?.value ?? "";
  return {
    pageref: "page_1",
    startedDateTime: new Date(START + index * 50).toISOString(),
    time: 12,
    request: {
      method: r.method,
      url: r.url,
      httpVersion: "HTTP/1.1",
      headers: requestHeaders,
      queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
      cookies: cookieHeader === undefined ? [] : parseCookies(cookieHeader),
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: r.status,
      statusText: r.status === 0 ? "" : statusText(r.status),
      httpVersion: r.status === 0 ? "" : "HTTP/1.1",
      headers: responseHeaders,
      cookies: responseHeaders
        .filter((h) => h.name === "set-cookie")
        .flatMap((h) => parseCookies(h.value.split(";")[0] ?? "")),
      content: { size: 0, mimeType: "" },
      redirectURL: location,
      headersSize: -1,
      bodySize: -1,
      ...(r.error !== undefined ? { _error: r.error } : {}),
    },
    cache: {},
    timings: { send: 1, wait: 10, receive: 1 },
    _resourceType: r.phase === "preflight" ? "preflight" : "fetch",
  };
}

function parseCookies(header: string): HarNameValue[] {
  return header
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p.includes("="))
    .map((p) => ({ name: p.slice(0, p.indexOf("=")), value: p.slice(p.indexOf("=") + 1) }));
}

function statusText(status: number): string {
  return { 200: "OK", 204: "No Content", 302: "Found", 403: "Forbidden" }[status] ?? "";
}

function har(recorded: Recorded[]): Har {
  const document: HarEntry = {
    pageref: "page_1",
    startedDateTime: new Date(START - 1000).toISOString(),
    request: { method: "GET", url: PAGE_URL, headers: [{ name: "User-Agent", value: USER_AGENT }] },
    response: { status: 200, headers: [{ name: "content-type", value: "text/html" }] },
    _resourceType: "document",
  };
  return {
    log: {
      version: "1.2",
      creator: { name: "access-bridge doctor fixtures", version: "1" },
      pages: [
        { id: "page_1", title: PAGE_URL, startedDateTime: new Date(START - 1000).toISOString() },
      ],
      entries: [document, ...recorded.map(toEntry)],
    },
  };
}

const PUT: Omit<CorsRequest, "url"> = {
  origin: ORIGIN,
  method: "PUT",
  headers: [{ name: "Content-Type", value: "application/json" }, { name: "x-api-key" }],
  credentials: true,
};
const GET: Omit<CorsRequest, "url"> = {
  origin: ORIGIN,
  method: "GET",
  headers: [],
  credentials: true,
};

/**
 * A page that (wrongly) ships the service token: the preflight allows every
 * header, the answer uses `*` with credentials and sets a fresh Access cookie.
 */
const SECRETS_BEHAVIOUR: Behaviour = {
  options: {
    status: 204,
    headers: {
      "access-control-allow-origin": ORIGIN,
      "access-control-allow-credentials": "true",
      "access-control-allow-headers": "authorization, cf-access-client-id, cf-access-client-secret",
      "access-control-max-age": "600",
      vary: "Origin",
    },
  },
  actual: {
    status: 200,
    headers: {
      "access-control-allow-origin": "*",
      "access-control-allow-credentials": "true",
      "set-cookie": `CF_Authorization=${PLANTED.setCookie}; Path=/; Secure; HttpOnly; SameSite=None`,
    },
  },
};

export async function buildFixtures(): Promise<Record<string, Har>> {
  const clean = [
    ...(await record(scenario("preflighted PUT allowed"), "/items/allowed", PUT)),
    ...(await record(scenario("simple GET allowed"), "/items/public", {
      ...GET,
      credentials: false,
    })),
  ];
  const failing = [
    ...(await record(scenario("* with credentials"), "/items/wildcard", GET)),
    ...(await record(scenario("origin with a trailing slash"), "/items/trailing-slash", GET)),
    ...(await record(scenario("header missing"), "/items/missing-header", PUT)),
    ...(await record(scenario("method not allowed"), "/items/method", PUT)),
    ...(await record(scenario("403 to the preflight"), "/items/access-403", PUT)),
    ...(await record(scenario("302 to the Access login"), "/items/login", GET, false)),
    ...(await record(scenario("credentials without"), "/items/no-acac", GET)),
  ];
  const secrets = await record(
    SECRETS_BEHAVIOUR,
    `/me?view=full&cf_authorization=${PLANTED.query}`,
    {
      origin: ORIGIN,
      method: "GET",
      credentials: true,
      headers: [
        { name: "Cookie", value: `CF_Authorization=${PLANTED.cookie}; theme=dark` },
        { name: "Authorization", value: `Bearer ${PLANTED.bearer}` },
        { name: "cf-access-client-id", value: PLANTED.clientId },
        { name: "cf-access-client-secret", value: PLANTED.clientSecret },
      ],
    },
  );
  return {
    "clean.har": har(clean),
    "triage.har": har([...clean, ...failing]),
    "secrets.har": har(secrets),
  };
}

if (require.main === module) {
  buildFixtures().then((fixtures) => {
    for (const [name, data] of Object.entries(fixtures)) {
      writeFileSync(path.join(FIXTURE_DIR, name), JSON.stringify(data, null, 2) + "\n");
    }
  });
}
