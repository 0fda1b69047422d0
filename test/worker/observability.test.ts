/**
 * What an operator sees of each request: one reason per outcome, in the
 * error body, in one JSON log line and in one data point, and nothing secret
 * or personal in any of them.
 */
import { REASONS, REFUSALS, type Reason } from "../../worker/src/reasons";
import {
  API_HOSTNAME,
  baseBindings,
  CLIENT_ID,
  CLIENT_SECRET,
  claims,
  expectRawJsonError,
  type Harness,
  logLineOf,
  logLines,
  type LogLine,
  newSigningKey,
  rawFrontendRequest,
  signJwt,
  startWorker,
  waitUntil,
} from "./harness";

const key = newSigningKey("key-1");
const EMAIL = "ada@mysite.com";
const SUB = "0f5c1d2e-person-sub";
const SERVICE_NAME = "7d1e0c9a4b2f.access";
const COOKIE_VALUE = "cookie-value-8c2e91";
const QUERY_VALUE = "query-value-51ad07";
const now = (): number => Math.floor(Date.now() / 1000);

const person = signJwt(key, claims({ email: EMAIL, sub: SUB }));
const service = signJwt(key, claims({ email: undefined, sub: "", common_name: SERVICE_NAME }));

/** Every field the log line may have; anything else is a leak waiting to happen. */
const FIELDS = [
  "reason",
  "status",
  "requestId",
  "api",
  "method",
  "identity",
  "sub",
  "upstreamStatus",
  "upstreamMs",
  "detail",
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Caller {
  kind: "person" | "service";
  jwt: string;
  /** The same caller's token with one claim changed. */
  with(overrides: Record<string, unknown>): string;
}

const callers: Caller[] = [
  {
    kind: "person",
    jwt: person,
    with: (o) => signJwt(key, claims({ email: EMAIL, sub: SUB, ...o })),
  },
  {
    kind: "service",
    jwt: service,
    with: (o) =>
      signJwt(key, claims({ email: undefined, sub: "", common_name: SERVICE_NAME, ...o })),
  },
];

/** One row of the reason table: how to cause it, and what the log line must then say. */
interface Row {
  reason: Reason;
  status: number;
  worker?: string;
  method?: string;
  path?: string;
  /** The assertion sent, if any; default the caller's. */
  jwt?: (c: Caller) => string | null;
  headers?: Record<string, string>;
  api?: Harness["api"];
  /** Whether the caller is verified by the time the answer is decided. */
  verified: boolean;
  /** Whether the API was called, and whether it answered with a status. */
  called?: "answered" | "tried";
}

const rows: Row[] = [
  { reason: "forwarded", status: 200, verified: true, called: "answered" },
  { reason: "not_found", status: 404, path: "/apix/items", verified: false },
  { reason: "not_found", status: 404, path: "/api/%252e%252e/admin", verified: false },
  { reason: "missing_assertion", status: 401, jwt: () => null, verified: false },
  { reason: "malformed_assertion", status: 403, jwt: (c) => `${c.jwt}==`, verified: false },
  {
    reason: "invalid_assertion",
    status: 403,
    jwt: (c) => c.with({ exp: now() - 60 }),
    verified: false,
  },
  {
    reason: "invalid_assertion",
    status: 403,
    jwt: (c) => c.with({ aud: ["another-app"] }),
    verified: false,
  },
  {
    reason: "no_identity",
    status: 403,
    jwt: () => signJwt(key, claims({ email: undefined, sub: SUB })),
    verified: false,
  },
  { reason: "keys_unavailable", status: 403, worker: "keysDown", verified: false },
  { reason: "method_not_allowed", status: 405, method: "PROPFIND", verified: true },
  {
    reason: "cross_site",
    status: 403,
    method: "POST",
    headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    verified: true,
  },
  {
    reason: "upstream_unreachable",
    status: 502,
    api: () => "drop",
    verified: true,
    called: "tried",
  },
  {
    reason: "upstream_leak",
    status: 502,
    api: () =>
      new Response(`debug: cf-access-client-secret=${CLIENT_SECRET}`, {
        status: 500,
        headers: { "content-type": "text/plain" },
      }),
    verified: true,
    called: "answered",
  },
  {
    reason: "upstream_timeout",
    status: 504,
    worker: "slow",
    api: async () => {
      await sleep(1500);
      return new Response("too late");
    },
    verified: true,
    called: "tried",
  },
  {
    reason: "service_token_refused",
    status: 502,
    // The API's Access, refusing the token, sends the Worker to the team's login.
    api: () =>
      new Response(null, {
        status: 302,
        headers: {
          location: `https://myteam.cloudflareaccess.com/cdn-cgi/access/login/${API_HOSTNAME}?kid=k&redirect_url=%2Fitems`,
        },
      }),
    verified: true,
    called: "answered",
  },
  { reason: "misconfigured", status: 500, worker: "noSecret", verified: false },
  {
    reason: "internal",
    status: 500,
    // No Response can carry this status, so the Worker cannot pass it on.
    api: () => ({ rawStatus: 999, body: "odd" }),
    verified: true,
    called: "answered",
  },
];

describe("the reason table", () => {
  it("has a row below for every reason the Worker gives, and a status for every refusal", () => {
    expect([...new Set(rows.map((r) => r.reason))].sort()).toEqual([...REASONS].sort());
    for (const row of rows.filter((r) => r.reason !== "forwarded")) {
      expect([row.reason, REFUSALS[row.reason as Exclude<Reason, "forwarded">].status]).toEqual([
        row.reason,
        row.status,
      ]);
    }
  });
});

describe.each(callers)("what the Worker tells operators, for a $kind", (caller) => {
  let h: Harness;
  /** Everything the Worker wrote and counted, and every statement it sent, across the tests. */
  const output: string[] = [];
  const statements: string[] = [];
  let requests = 0;

  beforeAll(async () => {
    h = await startWorker({
      keys: [key],
      apiOverHttp: true,
      analytics: "record",
      variants: {
        // A fresh isolate, which has no keys yet.
        keysDown: { analytics: "record" },
        slow: { bindings: { ...baseBindings, UPSTREAM_TIMEOUT_MS: "300" }, analytics: "record" },
        noSecret: {
          bindings: Object.fromEntries(
            Object.entries(baseBindings).filter(([name]) => name !== "CF_ACCESS_CLIENT_SECRET"),
          ),
          analytics: "record",
        },
      },
    });
  });
  afterEach(() => {
    output.push(...h.logs.map((l) => l.message), JSON.stringify(h.dataPoints));
    statements.push(...h.apiCalls.map((c) => c.headers["x-access-bridge-identity"] ?? ""));
    h.reset();
  });
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  it.each(rows.map((row, i) => [row.reason, i, row] as const))(
    "%s (row %i): the answer, one log line and one data point say it",
    async (reason, i, row) => {
      const ray = `ray-${caller.kind}-${i}`;
      h.api = row.api ?? h.api;
      if (row.worker === "keysDown") h.certsUp = false;
      const jwt = row.jwt ? row.jwt(caller) : caller.jwt;
      const response = await rawFrontendRequest(
        h,
        row.worker,
        `${row.path ?? "/api/items"}?q=${QUERY_VALUE}`,
        {
          "cf-ray": ray,
          cookie: `CF_Authorization=${caller.jwt}; session=${COOKIE_VALUE}`,
          ...(jwt !== null ? { "cf-access-jwt-assertion": jwt } : {}),
          ...row.headers,
        },
        row.method ?? "GET",
      );
      requests++;

      expect(response.status).toBe(row.status);
      if (reason === "forwarded") expect(JSON.parse(response.body)).toEqual({ ok: true });
      else expect(expectRawJsonError(response, row.status, reason)).toBe(ray);

      const line: LogLine = await logLineOf(h, ray);
      expect(FIELDS).toEqual(expect.arrayContaining(Object.keys(line)));
      expect(line).toMatchObject({
        reason,
        status: row.status,
        requestId: ray,
        api: API_HOSTNAME,
        method: row.method ?? "GET",
      });
      if (row.verified) {
        expect(line.identity).toBe(caller.kind);
        if (caller.kind === "person") expect(line.sub).toBe(SUB);
        else expect(line).not.toHaveProperty("sub");
      } else {
        expect(line).not.toHaveProperty("identity");
        expect(line).not.toHaveProperty("sub");
      }
      if (row.called === undefined) {
        expect(line).not.toHaveProperty("upstreamMs");
        expect(line).not.toHaveProperty("upstreamStatus");
      } else {
        expect(typeof line.upstreamMs).toBe("number");
        expect(line.upstreamMs).toBeGreaterThanOrEqual(0);
        if (row.called === "answered") expect(typeof line.upstreamStatus).toBe("number");
        else expect(line).not.toHaveProperty("upstreamStatus");
      }
      if (reason === "forwarded") expect(line).not.toHaveProperty("detail");
      else expect(line.detail).toEqual(expect.stringMatching(/\S/));
      if (reason === "upstream_timeout") expect(line.upstreamMs).toBeGreaterThanOrEqual(250);

      // The Worker's own faults, and its dependencies', go to console.error too; refusals do not.
      const fault = reason !== "forwarded" && "fault" in REFUSALS[reason];
      const errors = h.logs.filter((l) => l.level === "error" && l.message.includes(ray));
      expect(errors.length > 0).toBe(fault);

      await waitUntil(() => h.dataPoints.length > 0);
      await sleep(20);
      expect(h.dataPoints).toEqual([
        {
          indexes: [API_HOSTNAME],
          blobs: [reason, row.method ?? "GET", row.verified ? caller.kind : ""],
          doubles: [row.status, line.upstreamMs ?? 0],
        },
      ]);
    },
  );

  it("wrote one log line per request and nothing secret or personal anywhere", () => {
    const text = output.join("\n");
    const lines = output.flatMap((message) => {
      try {
        const parsed = JSON.parse(message) as unknown;
        return typeof parsed === "object" && parsed !== null && "reason" in parsed ? [parsed] : [];
      } catch {
        return [];
      }
    });
    expect(lines).toHaveLength(requests);
    expect(statements.filter((s) => s !== "").length).toBeGreaterThan(0);
    const forbidden = [
      CLIENT_ID,
      CLIENT_SECRET,
      caller.jwt,
      caller.jwt.split(".")[2]!,
      ...statements.filter((s) => s !== ""),
      ...statements.filter((s) => s !== "").map((s) => s.split(".")[2]!),
      COOKIE_VALUE,
      QUERY_VALUE,
      EMAIL,
      SERVICE_NAME,
    ];
    for (const value of forbidden) {
      expect([value, text.toLowerCase().includes(value.toLowerCase())]).toEqual([value, false]);
    }
  });
});

describe("a throwing ANALYTICS binding", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({
      keys: [key],
      variants: { counting: { analytics: "record" }, throwing: { analytics: "throw" } },
    });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  it.each([
    ["forwarded", "/api/items", person],
    ["a refusal", "/api/items", null],
    ["a not found", "/elsewhere", person],
  ] as const)("changes no answer: %s", async (_what, path, jwt) => {
    const answer = async (worker: string) => {
      const response = await h.fetch(path, { jwt, worker, headers: { "cf-ray": `ray-${worker}` } });
      return { status: response.status, body: await response.text() };
    };
    const counted = await answer("counting");
    const thrown = await answer("throwing");
    expect(thrown).toEqual({
      ...counted,
      body: counted.body.replace("ray-counting", "ray-throwing"),
    });
    const line = await logLineOf(h, "ray-throwing");
    expect(line.status).toBe(counted.status);
    expect(logLines(h)).toHaveLength(2);
  });
});
