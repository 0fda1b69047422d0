/**
 * The guide's cases in a real browser, on the dev stack's same-site hosts
 * (www.example.com → api.example.com): each test loads the page, runs a case
 * and checks what Chromium itself reported, then what the lab's parties saw.
 */
import {
  entries,
  expectServiceTokenAtApi,
  freshPage,
  openSession,
  runCase,
  signInToApi,
  type Session,
} from "./browser-support";

jest.setTimeout(60_000);

const email = "dev@example.com";
let session: Session;

beforeAll(async () => {
  session = await openSession("dev");
}, 90_000);

afterAll(async () => {
  await session?.close();
});

describe("through the Worker", () => {
  it("succeeds without any API login, and the API sees the service token and the person, not the front end's cookie", async () => {
    await freshPage(session, "as-configured", email);
    const { result, trace } = await runCase(session, "worker");

    expect(result).toMatchObject({ outcome: "ok", status: 200 });
    const echo = result.body as { caller: { kind: string }; headers: Record<string, string> };
    expect(echo.caller.kind).toBe("service-token");
    expect(echo.headers["x-access-bridge-user-email"]).toBe(email);
    expect(echo.headers).not.toHaveProperty("cookie");
    expectServiceTokenAtApi(trace, session.lab.clientId);
    const apiCookies = await session.context.cookies(session.apiUrl);
    expect(apiCookies.map((c) => c.name)).toEqual([]);
  });
});

describe("not logged in to the API", () => {
  it("a simple cross-origin request fails, and works after logging in", async () => {
    await freshPage(session, "as-configured", email);
    const before = await runCase(session, "simple");
    expect(before.result).toMatchObject({ outcome: "blocked", status: null });
    expect(entries(before.trace, "api-edge", "GET")).toEqual([
      expect.objectContaining({ status: 302 }),
    ]);
    expect(entries(before.trace, "demo-api")).toEqual([]);

    await signInToApi(session, email);
    const after = await runCase(session, "simple");
    expect(after.result).toMatchObject({ outcome: "ok", status: 200 });
    expect((after.result.body as { caller: unknown }).caller).toEqual({ kind: "person", email });
  });
});

describe("preflight: cloudflare", () => {
  async function preflightedAfterApiLogin(scenario: string): ReturnType<typeof runCase> {
    await freshPage(session, scenario, email);
    await signInToApi(session, email);
    return runCase(session, "preflighted");
  }

  it("a credentialed, preflighted request from an allowed origin with an allowed header succeeds", async () => {
    const { result, trace } = await preflightedAfterApiLogin("as-configured");
    expect(result).toMatchObject({ outcome: "ok", status: 200 });
    const echo = result.body as {
      method: string;
      caller: unknown;
      headers: Record<string, string>;
    };
    expect(echo.method).toBe("POST");
    expect(echo.caller).toEqual({ kind: "person", email });
    expect(echo.headers["x-requested-with"]).toBe("lab");
    expect(entries(trace, "api-edge", "OPTIONS")).toEqual([
      expect.objectContaining({ status: 200, note: "answered from corsHeaders" }),
    ]);
    expect(entries(trace, "demo-api", "OPTIONS")).toEqual([]);
  });

  it.each([
    ["origin-not-allowed", "origin not allowed by corsHeaders"],
    ["header-not-allowed", "answered from corsHeaders"],
    ["credentials-off", "answered from corsHeaders"],
  ])("fails in the browser when %s", async (scenario, edgeNote) => {
    const { result, trace } = await preflightedAfterApiLogin(scenario);
    expect(result).toMatchObject({ outcome: "blocked", status: null });
    expect(result.error).toMatch(/TypeError/);
    expect(entries(trace, "api-edge", "OPTIONS")).toEqual([
      expect.objectContaining({ status: 200, note: edgeNote }),
    ]);
    expect(entries(trace, "demo-api")).toEqual([]);
  });
});

describe("preflight: origin", () => {
  it("the preflight reaches the origin, and an origin that admits the front end lets the request through", async () => {
    await freshPage(session, "preflight-origin", email);
    await signInToApi(session, email);
    const { result, trace } = await runCase(session, "preflighted");
    expect(result).toMatchObject({ outcome: "ok", status: 200 });
    expect(entries(trace, "demo-api", "OPTIONS")).toEqual([
      expect.objectContaining({ status: 204 }),
    ]);
    expect(entries(trace, "demo-api", "POST")).toHaveLength(1);
  });

  it("an origin that refuses the front end makes the browser refuse the request", async () => {
    await freshPage(session, "preflight-origin-refuses", email);
    await signInToApi(session, email);
    const { result, trace } = await runCase(session, "preflighted");
    expect(result).toMatchObject({ outcome: "blocked", status: null });
    expect(entries(trace, "demo-api", "OPTIONS")).toEqual([
      expect.objectContaining({ status: 403 }),
    ]);
    expect(entries(trace, "demo-api", "POST")).toEqual([]);
  });
});

describe("neither CORS settings nor OPTIONS bypass (emulated hand-made app)", () => {
  it("the preflight gets Access's 403 and the browser reports a CORS failure", async () => {
    await freshPage(session, "no-cors-settings", email);
    await signInToApi(session, email);
    const { result, trace } = await runCase(session, "preflighted");
    expect(result).toMatchObject({ outcome: "blocked", status: null });
    expect(entries(trace, "api-edge", "OPTIONS")).toEqual([
      expect.objectContaining({ status: 403 }),
    ]);
    expect(entries(trace, "demo-api")).toEqual([]);
  });
});
