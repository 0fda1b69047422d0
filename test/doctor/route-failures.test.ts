/**
 * The two failures on the stack's own route that reach a page as an opaque
 * error: the person's Access session ended (Access answers the route before
 * the Worker runs), and the API's Access refused the Worker's service token
 * (the Worker's 502 service_token_refused). The doctor names each as its own
 * root cause, with its fix, in a capture and live.
 */
import type { Finding } from "../../doctor/diagnose";
import { triageHar, type Har, type HarEntry } from "../../doctor/har";
import { renderHarText } from "../../doctor/report";
import { runCli } from "./support/run-cli";
import { startHandler, type ReceivedRequest, type Reply, type TestServer } from "./support/servers";

const FRONTEND = "https://www.example.com";
const TEAM = "example.cloudflareaccess.com";
const loginUrl = (host: string, back: string) =>
  `https://${TEAM}/cdn-cgi/access/login/${host}?kid=abc&redirect_url=${encodeURIComponent(back)}`;
const refusedBody = JSON.stringify({
  error: "the API's Access refused the service token",
  reason: "service_token_refused",
  requestId: "8f00aa11bb22cc33-LHR",
});

/** A request the page made, as Chromium's export records it, and what came back. */
function entry(
  url: string,
  status: number,
  options: {
    requestHeaders?: Record<string, string>;
    responseHeaders?: Record<string, string>;
    body?: string;
    error?: string;
  } = {},
): HarEntry {
  const pairs = (h: Record<string, string>) =>
    Object.entries(h).map(([name, value]) => ({ name, value }));
  return {
    request: {
      method: "GET",
      url,
      headers: pairs({
        referer: `${FRONTEND}/dashboard`,
        "sec-fetch-mode": "cors",
        ...options.requestHeaders,
      }),
    },
    response: {
      status,
      headers: pairs(options.responseHeaders ?? {}),
      ...(options.body !== undefined
        ? {
            content: {
              size: options.body.length,
              mimeType: "application/json",
              text: options.body,
            },
          }
        : {}),
      ...(options.error !== undefined ? { _error: options.error } : {}),
    },
  };
}

const har = (...entries: HarEntry[]): Har => ({ log: { entries } });

const failing = (findings: Finding[]): Finding[] => findings.filter((f) => !f.ok);

describe("an ended session in a capture", () => {
  const route = `${FRONTEND}/api/items?page=2`;

  it("names a redirect of the route to the Access login as the ended session, and its fix", () => {
    const t = triageHar(
      har(
        entry(route, 302, { responseHeaders: { location: loginUrl("www.example.com", route) } }),
        // The fetch followed the redirect to the team's login page, where CORS stopped it.
        entry(loginUrl("www.example.com", route), 200, { error: "net::ERR_FAILED" }),
      ),
    );
    expect(t.items).toHaveLength(1);
    const [item] = t.items;
    expect(item).toMatchObject({ entry: 0, status: 302, sameOrigin: true });
    const [problem] = failing(item!.diagnosis.findings);
    expect(problem).toMatchObject({
      step: "access-session",
      fixKeys: ["bridge-fetch", "log-in-first"],
    });
    expect(problem!.summary).toBe("302 redirect to the Access login page: the session ended");
    expect(problem!.cause).toMatch(/the person's Access session ended/);
    expect(problem!.fix).toMatch(/bridgeFetch from access-bridge\/client/);
    expect(problem!.fix).toMatch(/X-Requested-With: XMLHttpRequest/);
    expect(problem!.fix).toMatch(/^Log in again/);

    const text = renderHarText("capture.har", t, []);
    expect(text).toContain(`#0 GET ${FRONTEND}/api/items?page=2 from ${FRONTEND} → 302`);
    expect(text).toContain(
      "✘ access-session: 302 redirect to the Access login page: the session ended",
    );
    expect(text).toContain("Verdict: ✘ 1 request(s) on the stack's route that failed.");
  });

  it("names Access's 401 to a request marked X-Requested-With: XMLHttpRequest", () => {
    const t = triageHar(
      har(entry(route, 401, { requestHeaders: { "X-Requested-With": "XMLHttpRequest" } })),
    );
    const [problem] = failing(t.items[0]!.diagnosis.findings);
    expect(problem).toMatchObject({
      step: "access-session",
      summary: "401 from Access with no X-Access-Bridge-Reason: the session ended",
    });
  });

  it("leaves the 401s that passed the Worker, the API's own and the Worker's, to their owners", () => {
    const t = triageHar(
      har(
        entry(route, 401, {
          requestHeaders: { "X-Requested-With": "XMLHttpRequest" },
          responseHeaders: { "x-access-bridge-reason": "forwarded" },
        }),
        entry(`${FRONTEND}/api/other`, 200),
        // Not on the route: the front end's own pages are not the Worker's.
        entry(`${FRONTEND}/account`, 401, {
          requestHeaders: { "X-Requested-With": "XMLHttpRequest" },
        }),
      ),
    );
    expect(t.items).toEqual([]);
  });

  it("knows the page's origin from Sec-Fetch-Site when the request names no page", () => {
    const bare: HarEntry = {
      request: {
        method: "GET",
        url: route,
        headers: [
          { name: "sec-fetch-site", value: "same-origin" },
          { name: "X-Requested-With", value: "XMLHttpRequest" },
        ],
      },
      response: { status: 401, headers: [] },
    };
    expect(triageHar(har(bare)).items.map((i) => i.origin)).toEqual([FRONTEND]);
  });

  it("follows the route prefix it is given", () => {
    const billing = `${FRONTEND}/billing/invoices`;
    const capture = har(
      entry(billing, 401, { requestHeaders: { "X-Requested-With": "XMLHttpRequest" } }),
    );
    expect(triageHar(capture).items).toEqual([]);
    expect(triageHar(capture, { routePrefix: "/billing" }).items).toHaveLength(1);
  });
});

describe("a refused service token in a capture", () => {
  it("is its own root cause, with the runbooks and the Service Auth policy as the fix", () => {
    const t = triageHar(
      har(
        entry(`${FRONTEND}/api/items`, 502, {
          responseHeaders: {
            "content-type": "application/json",
            "x-access-bridge-reason": "service_token_refused",
          },
          body: refusedBody,
        }),
      ),
    );
    expect(t.items).toHaveLength(1);
    const [problem] = failing(t.items[0]!.diagnosis.findings);
    expect(problem).toMatchObject({ step: "worker", fixKeys: ["service-token"] });
    expect(problem!.cause).toContain(
      "reason service_token_refused (requestId 8f00aa11bb22cc33-LHR)",
    );
    expect(problem!.cause).toMatch(
      /expired, was revoked, its secret was rotated past the grace period/,
    );
    expect(problem!.fix).toMatch(/docs\/runbooks\.md, Renew the service token/);
    expect(problem!.fix).toMatch(/docs\/runbooks\.md, Rotate the service token's secret/);
    expect(problem!.fix).toMatch(/Service Auth \(non_identity\) policy/);
    // The Worker's answer is also listed with the others it gave.
    expect(t.workerAnswers.map((a) => a.reason)).toEqual(["service_token_refused"]);
  });

  it("is named from the Worker's header when the capture kept no body", () => {
    const t = triageHar(
      har(
        entry(`${FRONTEND}/api/items`, 502, {
          responseHeaders: { "x-access-bridge-reason": "service_token_refused" },
        }),
      ),
    );
    expect(failing(t.items[0]!.diagnosis.findings).map((f) => f.step)).toEqual(["worker"]);
  });
});

describe("the route, live", () => {
  let server: TestServer;
  let answer: (req: ReceivedRequest) => Reply;
  beforeEach(async () => {
    server = await startHandler((req) => answer(req));
  });
  afterEach(() => server.close());

  const check = (...extra: string[]) =>
    runCli(["--url", `${server.base}/api/items`, "--origin", server.base, ...extra]);

  it("names the login redirect of the front end's Access as the ended session", async () => {
    answer = () => ({ status: 302, headers: { location: loginUrl("127.0.0.1", "/api/items") } });
    const run = await check();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("No preflight: a same-origin request");
    expect(run.stdout).toContain(
      "✘ access-session: 302 redirect to the Access login page: the session ended",
    );
    expect(run.stdout).toMatch(/fix: {3}Log in again: .*bridgeFetch/);
  });

  it("names Access's 401 to X-Requested-With: XMLHttpRequest, sending no preflight to its own origin", async () => {
    answer = (req): Reply =>
      req.headers["x-requested-with"] === "XMLHttpRequest"
        ? { status: 401, headers: { "content-type": "text/plain" } }
        : { status: 302, headers: { location: loginUrl("127.0.0.1", "/api/items") } };
    const run = await check("--header", "X-Requested-With: XMLHttpRequest", "--json");
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as { findings: Finding[]; preflightNeeded: boolean };
    expect(json.preflightNeeded).toBe(false);
    expect(failing(json.findings).map((f) => f.step)).toEqual(["access-session"]);
    expect(server.received.map((r) => r.method)).toEqual(["GET"]);
  });

  it("names the Worker's service_token_refused as the refused token", async () => {
    answer = () => ({
      status: 502,
      headers: {
        "content-type": "application/json",
        "x-access-bridge-reason": "service_token_refused",
      },
      body: refusedBody,
    });
    const run = await check();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "✘ worker: 502 from the stack's Worker: the API's Access refused its service token (reason service_token_refused)",
    );
    expect(run.stdout).toMatch(/fix: {3}Renew the token \(docs\/runbooks\.md/);
  });

  it("lets an answer of the Worker to its own origin through: no CORS check applies", async () => {
    answer = () => ({ status: 200, headers: { "content-type": "application/json" } });
    const run = await check();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "✔ cors: same-origin request: the browser applies no CORS check to it",
    );
  });
});
