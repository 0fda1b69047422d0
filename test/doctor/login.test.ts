/**
 * The doctor with a person's login: against a local stand-in for an API
 * behind Access that lets a request through only with the right
 * `cf-access-token` (or CF_Authorization cookie), and otherwise answers as
 * Access does, with a redirect to its login page.
 */
import type { Finding } from "../../doctor/diagnose";
import { ACCESS_LOGIN, ORIGIN } from "./support/scenarios";
import { startHandler, type Reply, type TestServer } from "./support/servers";
import { runCli } from "./support/run-cli";

/** Looks like a JWT, so the doctor's JWT pattern and its exact-value scrub both apply. */
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImFkYUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLXNlY3JldA";
const COOKIE_VALUE = "cookie-login-secret-7d41";

const cors = (extra: Record<string, string> = {}): Record<string, string> => ({
  "access-control-allow-origin": ORIGIN,
  "access-control-allow-credentials": "true",
  vary: "Origin",
  ...extra,
});
const preflightOk: Reply = {
  status: 200,
  headers: cors({
    "access-control-allow-methods": "PUT",
    "access-control-allow-headers": "content-type, x-api-key",
    "access-control-max-age": "600",
  }),
};
const loginRedirect: Reply = {
  status: 302,
  headers: { location: ACCESS_LOGIN, server: "cloudflare", "cf-access-domain": "api.example.com" },
};

/** Access in front of an API: preflights answered from its CORS settings, the rest needs a login. */
function accessProtected(api: Reply = { status: 200, headers: cors() }) {
  return startHandler((req) => {
    if (req.method === "OPTIONS") return preflightOk;
    const cookie = String(req.headers.cookie ?? "");
    const loggedIn =
      req.headers["cf-access-token"] === TOKEN ||
      cookie.split("; ").includes(`CF_Authorization=${COOKIE_VALUE}`);
    return loggedIn ? api : loginRedirect;
  });
}

interface LiveJson {
  verdict: string;
  findings: Finding[];
  notJudged?: { api: string; tokenCommand: string; rerun?: string };
  request: { credentials: boolean; login: { accessToken: boolean; cookies: string[] } };
}

let server: TestServer;
afterEach(() => server?.close());

const live = (...args: string[]) =>
  runCli(["--url", `${server.base}/items`, "--origin", ORIGIN, ...args]);

describe("--access-token", () => {
  it("sends the token on the actual request and gives the browser's verdict for a logged-in person", async () => {
    server = await accessProtected();
    const run = await live("--credentials", "--access-token", TOKEN);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Verdict: ✔ allowed");
    expect(run.stdout).toContain("with credentials and a login (an Access token)");
    expect(server.received).toHaveLength(1);
    expect(server.received[0]?.headers["cf-access-token"]).toBe(TOKEN);
  });

  it("gives the logged-in verdict when the API's answer fails the browser's checks", async () => {
    const noCredentials = { status: 200, headers: { "access-control-allow-origin": ORIGIN } };
    server = await accessProtected(noCredentials);
    const run = await live("--credentials", "--access-token", TOKEN, "--json");
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as LiveJson;
    expect(json.verdict).toBe("blocked");
    expect(json.notJudged).toBeUndefined();
    expect(json.findings.filter((f) => !f.ok).map((f) => f.step)).toEqual(["credentials"]);
  });

  it("implies --credentials, since it stands in for a cookie only a credentialed request carries", async () => {
    server = await accessProtected();
    const run = await live("--access-token", TOKEN, "--json");
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as LiveJson;
    expect(json.request.credentials).toBe(true);
    expect(json.request.login).toEqual({ accessToken: true, cookies: [] });
  });

  it("never goes on the preflight, which a browser sends without any credential", async () => {
    server = await accessProtected();
    const run = await live(
      "--method",
      "PUT",
      "--header",
      "x-api-key",
      "--credentials",
      "--access-token",
      TOKEN,
    );
    expect(run.code).toBe(0);
    const [preflight, actual] = server.received;
    expect(preflight?.method).toBe("OPTIONS");
    expect(preflight?.headers).not.toHaveProperty("cf-access-token");
    expect(preflight?.headers).not.toHaveProperty("cookie");
    expect(actual?.method).toBe("PUT");
    expect(actual?.headers["cf-access-token"]).toBe(TOKEN);
  });

  it.each([[[]], [["--json"]]])("is never printed (extra args %j)", async (extra) => {
    server = await accessProtected();
    const run = await live("--credentials", "--access-token", TOKEN, ...extra);
    expect(server.received[0]?.headers["cf-access-token"]).toBe(TOKEN);
    expect(run.stdout).toContain("[redacted]");
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
    expect(run.stdout + run.stderr).not.toContain("c2lnbmF0dXJlLXNlY3JldA");
  });

  it("says so when Access does not accept the token", async () => {
    server = await accessProtected();
    const run = await live("--credentials", "--access-token", "eyJhbGciOi.eyJleHBpcmVk.c2ln");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("✘ access-login: 302 redirect to the Access login page");
    expect(run.stdout).toMatch(/Access did not accept the login given with --access-token/);
    expect(run.stdout).toMatch(/fix: +Get a fresh token for this API/);
    expect(run.stdout).not.toContain("could not judge");
  });
});

describe("--cookie", () => {
  it("sends every cookie in one Cookie header on the actual request only, and never prints a value", async () => {
    server = await accessProtected();
    const run = await live(
      "--method",
      "PUT",
      "--header",
      "x-api-key",
      "--cookie",
      `CF_Authorization=${COOKIE_VALUE}`,
      "--cookie",
      "theme=dark-mode",
    );
    expect(run.code).toBe(0);
    const [preflight, actual] = server.received;
    expect(preflight?.headers).not.toHaveProperty("cookie");
    expect(actual?.headers.cookie).toBe(`CF_Authorization=${COOKIE_VALUE}; theme=dark-mode`);
    expect(run.stdout).toContain("cookie(s) CF_Authorization, theme");
    expect(run.stdout).not.toContain(COOKIE_VALUE);
    expect(run.stdout).not.toContain("dark-mode");
  });
});

describe("a credentialed check against an Access-protected API, without a login", () => {
  it("says it could not judge the request as a logged-in person, how to get a token, and exits 1", async () => {
    server = await accessProtected();
    const run = await live("--credentials");
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/allowed/);
    expect(run.stdout).toContain("could not judge the request as a logged-in person");
    expect(run.stdout).toContain(`cloudflared access token -app=${server.base}/items`);
    expect(run.stdout).toContain(
      `npm run -s doctor -- --url '${server.base}/items' --origin ${ORIGIN} --method GET --credentials --access-token "$(cloudflared access token -app=${server.base}/items)"`,
    );
    expect(run.stdout).toContain(
      `Verdict: ✘ blocked for a browser that is not logged in to ${server.base}`,
    );
    // What the doctor saw is still explained: Access sent it to the login page.
    expect(run.stdout).toContain("✘ access-login: 302 redirect to the Access login page");
    expect(server.received[0]?.headers).not.toHaveProperty("cf-access-token");
  });

  it("says the same in --json", async () => {
    server = await accessProtected();
    const run = await live("--credentials", "--json");
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as LiveJson;
    expect(json.verdict).toBe("blocked");
    expect(json.notJudged).toMatchObject({
      api: server.base,
      tokenCommand: `cloudflared access token -app=${server.base}/items`,
    });
    expect(json.notJudged?.rerun).toContain("--access-token");
  });

  it("treats a 401 or 403 from Access the same way", async () => {
    server = await startHandler(() => ({
      status: 401,
      headers: { "cf-access-domain": "api.example.com", "content-type": "text/html" },
    }));
    const run = await live("--credentials");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("✘ access-denied: 401 from Access");
    expect(run.stdout).toContain("could not judge the request as a logged-in person");
  });

  it("does not call the API's own 401 allowed, even when the page could read it", async () => {
    server = await startHandler(() => ({ status: 401, headers: cors() }));
    const run = await live("--credentials", "--json");
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as LiveJson;
    expect(json.verdict).toBe("not-judged");
    expect(json.notJudged?.tokenCommand).toContain("cloudflared access token -app=");
    const text = await live("--credentials");
    expect(text.stdout).toContain("Verdict: ✘ not judged");
  });

  it("is an ordinary verdict without credentials: a browser sends no login then", async () => {
    server = await accessProtected();
    const run = await live("--json");
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as LiveJson;
    expect(json.notJudged).toBeUndefined();
    expect(json.findings.find((f) => !f.ok)?.cause).toMatch(/without `credentials: 'include'`/);
  });
});

describe("login usage errors exit 2 and send nothing", () => {
  it.each([
    [["--access-token", ""], /--access-token is empty/],
    [["--access-token", "two words"], /one word of visible characters/],
    [["--cookie", "no-equals-sign"], /--cookie: expected NAME=VALUE/],
    [["--cookie", "=value"], /--cookie: expected NAME=VALUE/],
  ])("%j", async (args, message) => {
    server = await accessProtected();
    const run = await live(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(server.received).toEqual([]);
  });

  it("refuses a login with --har", async () => {
    const run = await runCli(["--har", "x.har", "--access-token", TOKEN]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--har cannot be combined with --url/--origin, --access-token");
    expect(run.stderr).not.toContain(TOKEN);
  });
});
