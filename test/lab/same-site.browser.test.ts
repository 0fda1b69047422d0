/**
 * The guide's cases in a real browser, on the dev stack's same-site hosts
 * (www.example.com → api.example.com): each test loads the page, runs a case
 * and checks what Chromium itself reported, then what the lab's parties saw.
 */
import {
  entries,
  expectExplained,
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

  it("tells the API who called in a statement it verifies with the stack's identityJwks, shown on the page", async () => {
    await freshPage(session, "as-configured", email);
    const { result, identity } = await runCase(session, "worker");
    const echo = result.body as { identity: { verified: boolean; kind: string; sub: string } };
    expect(echo.identity).toEqual({ verified: true, kind: "person", sub: email, email });
    expect(identity).toBe(
      `Identity: verified by the API with identityJwks: ${email} (person), from X-Access-Bridge-Identity`,
    );
  });

  it("replaces a statement the page forges, so the API still sees who really called", async () => {
    await freshPage(session, "as-configured", email);
    // Well formed and signed, but by a key the stack never published.
    const forged = [
      { alg: "EdDSA", kid: "forged" },
      {
        iss: session.frontendUrl.replace(/\/$/, ""),
        aud: session.apiUrl.replace(/\/$/, ""),
        sub: "admin@example.com",
        email: "admin@example.com",
        iat: 1,
        exp: 9_999_999_999,
      },
    ]
      .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
      .concat("c2lnbmF0dXJl")
      .join(".");
    const echo = (await session.page.evaluate(async (statement) => {
      const response = await fetch("/api/echo?forged", {
        headers: { "X-Access-Bridge-Identity": statement },
        credentials: "same-origin",
      });
      return response.json();
    }, forged)) as {
      identity: { verified: boolean; sub?: string };
      headers: Record<string, string>;
    };
    expect(echo.headers["x-access-bridge-identity"]).not.toBe(forged);
    expect(echo.identity).toMatchObject({ verified: true, sub: email });
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
    const notLoggedIn =
      "not logged in to the API: the request carried no CF_Authorization cookie for api.example.com, so Access answered 302 to its login page, a redirect without CORS headers (log in to the API first, or use the Worker)";
    expectExplained(before, notLoggedIn);
    expectExplained(await runCase(session, "preflighted"), notLoggedIn);

    await signInToApi(session, email);
    const after = await runCase(session, "simple");
    expect(after.result).toMatchObject({ outcome: "ok", status: 200 });
    expect((after.result.body as { caller: unknown }).caller).toEqual({ kind: "person", email });
    // A direct call carries no statement: the API learns who called only from Access's assertion.
    expect(after.identity).toMatch(/^Identity: not verified: no x-access-bridge-identity/);
    // Nothing to explain when the browser let the page read the answer.
    expect(after.why).toBe("");
    expect(after.browserSays).toEqual([]);
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
    [
      "origin-not-allowed",
      "origin not allowed by corsHeaders",
      "origin not allowed: Access-Control-Allow-Origin missing for https://www.example.com (corsAllowedOrigins)",
    ],
    [
      "header-not-allowed",
      "answered from corsHeaders",
      "header not allowed: x-requested-with is not in Access-Control-Allow-Headers (corsAllowedHeaders)",
    ],
    [
      "credentials-off",
      "answered from corsHeaders",
      "credentials off: Access-Control-Allow-Credentials missing (corsAllowCredentials)",
    ],
  ])(
    "fails in the browser when %s, and the page says which rule",
    async (scenario, edgeNote, why) => {
      const run = await preflightedAfterApiLogin(scenario);
      expect(run.result).toMatchObject({ outcome: "blocked", status: null });
      expect(run.result.error).toMatch(/TypeError/);
      expect(entries(run.trace, "api-edge", "OPTIONS")).toEqual([
        expect.objectContaining({ status: 200, note: edgeNote }),
      ]);
      expect(entries(run.trace, "demo-api")).toEqual([]);
      expectExplained(run, why);
    },
  );

  it.each([
    [
      "origin-not-allowed",
      "origin not allowed: Access-Control-Allow-Origin missing for https://www.example.com (corsAllowedOrigins)",
    ],
    [
      "credentials-off",
      "credentials off: Access-Control-Allow-Credentials missing (corsAllowCredentials)",
    ],
  ])("explains the simple request's refusal too when %s", async (scenario, why) => {
    await freshPage(session, scenario, email);
    await signInToApi(session, email);
    const run = await runCase(session, "simple");
    // The API answered; the browser withheld the answer from the page.
    expect(entries(run.trace, "demo-api", "GET")).toEqual([
      expect.objectContaining({ status: 200 }),
    ]);
    expectExplained(run, why);
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
    const run = await runCase(session, "preflighted");
    expect(run.result).toMatchObject({ outcome: "blocked", status: null });
    expect(entries(run.trace, "demo-api", "OPTIONS")).toEqual([
      expect.objectContaining({ status: 403 }),
    ]);
    expect(entries(run.trace, "demo-api", "POST")).toEqual([]);
    expectExplained(
      run,
      "preflight refused: the API answered the preflight with 403: its own CORS policy does not admit https://www.example.com",
    );
  });
});

describe("neither CORS settings nor OPTIONS bypass (emulated hand-made app)", () => {
  it("the preflight gets Access's 403 and the browser reports a CORS failure", async () => {
    await freshPage(session, "no-cors-settings", email);
    await signInToApi(session, email);
    const run = await runCase(session, "preflighted");
    expect(run.result).toMatchObject({ outcome: "blocked", status: null });
    expect(entries(run.trace, "api-edge", "OPTIONS")).toEqual([
      expect.objectContaining({ status: 403 }),
    ]);
    expect(entries(run.trace, "demo-api")).toEqual([]);
    // Chromium names the missing allow-origin; the page names the 403 behind it.
    expectExplained(
      run,
      "preflight refused: Access answered the preflight with 403: a preflight carries no cookie, and the API app has neither CORS settings nor OPTIONS bypass (preflight)",
    );
    expect(run.consoleSays).toMatch(/No 'Access-Control-Allow-Origin' header is present/);
  });
});
