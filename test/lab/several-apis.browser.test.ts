/**
 * Two APIs behind one front end (the `apis` fixture stack: api.example.com
 * on /api, billing.example.com on /billing), in a real browser. Each API has
 * its own Access edge, app and service token, and its own Worker on its own
 * route; the lab's trace shows which party saw what, so each test also
 * checks that nothing reached the other API.
 */
import type { ReadyApi } from "../../lab/control";
import type { LogEntry } from "../../lab/log";
import {
  entries,
  expectExplained,
  freshPage,
  openSession,
  runCase,
  shell,
  signInToApi,
  type Session,
} from "./browser-support";

jest.setTimeout(60_000);

const email = "dev@example.com";
const frontendHost = "www.example.com";
let session: Session;
let api: ReadyApi;
let billing: ReadyApi;

beforeAll(async () => {
  session = await openSession("apis");
  [api, billing] = session.lab.apis as [ReadyApi, ReadyApi];
}, 90_000);

afterAll(async () => {
  await session?.close();
});

/** Trace entries that name the other API's host or its service token. */
function about(trace: LogEntry[], other: ReadyApi): LogEntry[] {
  return trace.filter((e) => e.url.includes(other.hostname) || e.note.includes(other.clientId));
}

interface Echo {
  host: string;
  path: string;
  caller: { kind: string };
  identity: { verified: boolean; sub?: string };
  headers: Record<string, string>;
}

describe("the lab of a stack with two APIs", () => {
  it("runs both, each with a service token of its own", () => {
    expect(session.lab.apis.map((a) => [a.hostname, a.routePrefix])).toEqual([
      ["api.example.com", "/api"],
      ["billing.example.com", "/billing"],
    ]);
    expect(api.clientId).toBe(session.lab.clientId);
    expect(billing.clientId).not.toBe(api.clientId);
    expect(billing.clientSecretSha256).not.toBe(api.clientSecretSha256);
    expect(billing.apiJwt.audience).not.toBe(api.apiJwt.audience);
  });
});

describe("through each API's route", () => {
  it.each([
    ["api", () => [api, billing] as const],
    ["billing", () => [billing, api] as const],
  ])(
    "the page reaches the %s API through its own Worker, with its own service token and nothing of the other's",
    async (_, which) => {
      const [self, other] = which();
      await freshPage(session, "as-configured", email);
      const { result, trace, identity } = await runCase(session, "worker", self.hostname);

      expect(result).toMatchObject({ outcome: "ok", status: 200 });
      const echo = result.body as Echo;
      expect(echo.host).toBe(self.hostname);
      expect(echo.path).toBe(`${self.routePrefix}/echo`);
      expect(echo.caller.kind).toBe("service-token");
      expect(echo.headers["x-access-bridge-user-email"]).toBe(email);
      // Verified with this API's own identityJwks, for this API's origin.
      expect(echo.identity).toMatchObject({ verified: true, sub: email });
      expect(identity).toMatch(/^Identity: verified by the API with identityJwks/);

      expect(entries(trace, "worker")).toEqual([
        expect.objectContaining({
          url: expect.stringMatching(
            new RegExp(`^https://${frontendHost}${self.routePrefix}/echo\\?`),
          ),
          status: 200,
          note: `route ${frontendHost}${self.routePrefix}/*`,
        }),
      ]);
      expect(entries(trace, "api-edge")).toEqual([
        expect.objectContaining({
          url: expect.stringMatching(
            new RegExp(`^https://${self.hostname}${self.routePrefix}/echo\\?`),
          ),
          note: `service token ${self.clientId} passed the Service Auth policy`,
        }),
      ]);
      expect(entries(trace, "demo-api")).toEqual([
        expect.objectContaining({
          url: expect.stringMatching(new RegExp(`^https://${self.hostname}/`)),
          status: 200,
          note: expect.stringMatching(
            new RegExp(`^echoed; caller: service token ${self.clientId}; identity verified: `),
          ),
        }),
      ]);
      expect(about(trace, other)).toEqual([]);
    },
  );
});

describe("directly, on each API's own host", () => {
  it("a login to one API is no login to the other: each edge asks for its own", async () => {
    await freshPage(session, "as-configured", email);
    await signInToApi(session, email, `https://${billing.hostname}/`);

    const toBilling = await runCase(session, "simple", billing.hostname);
    expect(toBilling.result).toMatchObject({ outcome: "ok", status: 200 });
    expect(toBilling.result.body).toMatchObject({
      host: billing.hostname,
      caller: { kind: "person", email },
    });
    expect(about(toBilling.trace, api)).toEqual([]);

    const toApi = await runCase(session, "simple", api.hostname);
    expect(entries(toApi.trace, "api-edge", "GET")).toEqual([
      expect.objectContaining({ url: expect.stringContaining(api.hostname), status: 302 }),
    ]);
    expect(entries(toApi.trace, "demo-api")).toEqual([]);
    expectExplained(
      toApi,
      "not logged in to the API: the request carried no CF_Authorization cookie for api.example.com, so Access answered 302 to its login page, a redirect without CORS headers (log in to the API first, or use the Worker)",
    );
  });

  it("each edge answers preflights from its own app's CORS settings", async () => {
    await freshPage(session, "as-configured", email);
    await signInToApi(session, email, `https://${billing.hostname}/`);
    const { result, trace } = await runCase(session, "preflighted", billing.hostname);
    expect(result).toMatchObject({ outcome: "ok", status: 200 });
    // Only billing's app allows the header its preflighted request sends.
    expect((result.body as Echo).headers["x-invoice-id"]).toBe("lab");
    expect(entries(trace, "api-edge", "OPTIONS")).toEqual([
      expect.objectContaining({
        url: expect.stringContaining(billing.hostname),
        status: 200,
        note: "answered from corsHeaders",
        answer: {
          headers: expect.objectContaining({
            "access-control-allow-headers": "content-type, x-invoice-id",
          }),
        },
      }),
    ]);
    expect(about(trace, api)).toEqual([]);
  });

  it("a scenario changes every API: without its header, billing's preflight fails and the page says why", async () => {
    await freshPage(session, "header-not-allowed", email);
    await signInToApi(session, email, `https://${billing.hostname}/`);
    const run = await runCase(session, "preflighted", billing.hostname);
    expect(entries(run.trace, "demo-api")).toEqual([]);
    expectExplained(
      run,
      "header not allowed: x-invoice-id is not in Access-Control-Allow-Headers (corsAllowedHeaders)",
    );
  });
});

describe("the doctor command printed for each API", () => {
  it("checks that API on its own host, with its own token, and names its route", async () => {
    await session.lab.use("as-configured");
    const port = session.lab.port;
    expect(billing.doctor).toContain(`--url https://billing.example.com:${port}/billing/echo`);
    expect(billing.doctor).toContain(`--resolve billing.example.com:${port}:127.0.0.1`);
    expect(billing.doctor).toContain("--header x-invoice-id");
    expect(billing.doctor).toContain("--route-prefix /billing");
    expect(api.doctor).not.toContain("--route-prefix");
    const tokenFile = (doctor: string) => /"\$\(cat (\S+)\)"/.exec(doctor)?.[1];
    expect(tokenFile(billing.doctor)).toBeDefined();
    expect(tokenFile(billing.doctor)).not.toBe(tokenFile(api.doctor));

    const allowed = await shell(billing.doctor);
    expect(allowed.stderr).toBe("");
    expect([allowed.code, allowed.stdout]).toEqual([
      0,
      expect.stringContaining("Verdict: ✔ allowed"),
    ]);

    const withoutToken = await shell(billing.doctor.replace(/--access-token "\$\(cat \S+\)" /, ""));
    expect(withoutToken.code).toBe(1);
    expect(withoutToken.stdout).toContain(
      `call the API through this stack's Worker on https://${frontendHost}/billing/*`,
    );
    expect(withoutToken.stdout).not.toContain("/api/*");
    // The rerun it suggests with a login keeps the route.
    expect(withoutToken.stdout).toMatch(/ --route-prefix \/billing --access-token /);
  });
});
