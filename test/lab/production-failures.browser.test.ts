/**
 * What breaks in production, in the lab's Chromium: the person's session
 * ends ("end my session"), the APIs' Access refuses the Workers' service
 * token ("revoke the service token"), and WebSockets through the route, from
 * the front end's own page and from another origin. Chromium records it all,
 * and the doctor names both root causes in that capture.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseHar, triageHar } from "../../doctor/har";
import { renderHarText } from "../../doctor/report";
import {
  entries,
  expectExplained,
  freshPage,
  openSession,
  runCase,
  signIn,
  type Session,
} from "./browser-support";

jest.setTimeout(60_000);

const email = "dev@example.com";
const team = "example-dev.cloudflareaccess.com";
let session: Session;
const dir = mkdtempSync(path.join(tmpdir(), "access-bridge-failures-"));
const capture = path.join(dir, "capture.har");

beforeAll(async () => {
  session = await openSession("dev", { recordHar: capture });
}, 90_000);

afterAll(async () => {
  await session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("end my session", () => {
  it("makes a plain fetch fail with the CORS error, where bridgeFetch calls onSessionExpired", async () => {
    await freshPage(session, "as-configured", email);
    const { page } = session;
    await page.click("#end-session");
    await page.waitForSelector("body[data-session-ended=true]");

    const plain = await runCase(session, "worker");
    expect(plain.result).toMatchObject({ outcome: "blocked", status: null });
    // Access answered the route itself: the Worker never ran.
    expect(entries(plain.trace, "frontend-edge", "GET")).toEqual([
      expect.objectContaining({
        status: 302,
        login: "not accepted",
        note: "session ended: redirected to login",
        answer: {
          headers: expect.objectContaining({
            location: expect.stringMatching(
              new RegExp(`^https://${team}/cdn-cgi/access/login/www\\.example\\.com\\?`),
            ),
          }),
        },
      }),
    ]);
    expect(entries(plain.trace, "worker")).toEqual([]);
    expectExplained(
      plain,
      "session ended: the front end's Access session ended, so Access answered /api/echo with 302 to its login page, a redirect without CORS headers, before the Worker ran (log in again; bridgeFetch sends X-Requested-With: XMLHttpRequest to get a 401 instead and recovers)",
    );

    const bridged = await runCase(session, "bridge");
    expect(bridged.result).toMatchObject({ outcome: "session-expired", status: 401 });
    expect(entries(bridged.trace, "frontend-edge", "GET")).toEqual([
      expect.objectContaining({
        status: 401,
        note: "session ended: X-Requested-With: XMLHttpRequest gets 401 in place of the login redirect",
      }),
    ]);
    expect(entries(bridged.trace, "worker")).toEqual([]);
    expect(bridged.why).toMatch(/^Why: session ended: .* with 401, the answer Access gives/);
    const failed =
      "Failed to load resource: the server responded with a status of 401 (Unauthorized)";
    expect(bridged.browserSays).toEqual([`Chromium's console: ${failed}`]);
    expect(session.console).toContain(failed);
  });

  it("is restored by logging in again, a top-level load that comes back to the page", async () => {
    const { page } = session;
    const output = page.locator('section.api output[data-case="bridge"]').first();
    const before = page.url();
    await output.locator("button.log-in-again").click();
    await page.waitForSelector("body[data-session-ended=false][data-ready=true]");
    expect(page.url()).toBe(before);

    const bridged = await runCase(session, "bridge");
    expect(bridged.result).toMatchObject({ outcome: "ok", status: 200 });
    expect((bridged.result.body as { headers: Record<string, string> }).headers).toMatchObject({
      "x-requested-with": "XMLHttpRequest",
      "x-access-bridge-user-email": email,
    });
    const plain = await runCase(session, "worker");
    expect(plain.result).toMatchObject({ outcome: "ok", status: 200 });
  });
});

describe("revoke the service token", () => {
  it("shows the Worker's 502 service_token_refused and why, with the fix", async () => {
    await freshPage(session, "as-configured", email);
    const { page } = session;
    await page.click("#revoke-token");
    await page.waitForSelector("body[data-token-revoked=true]");

    const run = await runCase(session, "worker");
    expect(run.result).toMatchObject({
      outcome: "http-error",
      status: 502,
      body: {
        error: "the API's Access refused the service token",
        reason: "service_token_refused",
        requestId: expect.stringMatching(/^[0-9a-f]{16}-LAB$/),
      },
    });
    expect(run.workerLogs.map((l) => l.reason)).toEqual(["service_token_refused"]);
    // The API's Access sent the Worker to the team's login for the API, as Access does.
    expect(entries(run.trace, "api-edge", "GET")).toEqual([
      expect.objectContaining({
        status: 302,
        note: `service token ${session.lab.clientId} revoked (the page's control): redirected to login`,
        answer: {
          headers: expect.objectContaining({
            location: expect.stringMatching(
              new RegExp(`^https://${team}/cdn-cgi/access/login/api\\.example\\.com\\?`),
            ),
          }),
        },
      }),
    ]);
    expect(entries(run.trace, "demo-api")).toEqual([]);
    expect(run.why).toBe(
      "Why: service token refused: the API's Access (api.example.com) sent the Worker's service token to its login, so the Worker answered 502 service_token_refused: the token expired, was revoked, was rotated past its grace period, or no Service Auth policy admits it (renew or rotate it, docs/runbooks.md, and check the API app's Service Auth policy)",
    );
    const failed =
      "Failed to load resource: the server responded with a status of 502 (Bad Gateway)";
    expect(run.browserSays).toEqual([`Chromium's console: ${failed}`]);
    expect(session.console).toContain(failed);
  });

  it("is restored by the control, and by loading the page again", async () => {
    const { page } = session;
    await page.click("#revoke-token");
    await page.waitForSelector("body[data-token-revoked=false]");
    expect((await runCase(session, "worker")).result).toMatchObject({ outcome: "ok", status: 200 });

    await page.click("#revoke-token");
    await page.waitForSelector("body[data-token-revoked=true]");
    await page.reload();
    await page.waitForSelector("body[data-token-revoked=false][data-ready=true]");
    expect((await runCase(session, "worker")).result).toMatchObject({ outcome: "ok", status: 200 });
  });
});

describe("a WebSocket through the route", () => {
  it("echoes a message from the front end's own page, with the service token at the API", async () => {
    await freshPage(session, "as-configured", email);
    const run = await runCase(session, "websocket");
    expect(run.result).toMatchObject({
      outcome: "ok",
      status: 101,
      body: "echo: hello from the lab page",
    });
    expect(entries(run.trace, "worker", "GET")).toEqual([
      expect.objectContaining({ status: 101, note: "route www.example.com/api/*, WebSocket" }),
    ]);
    expect(run.workerLogs.map((l) => l.reason)).toEqual(["forwarded"]);
    expect(entries(run.trace, "api-edge", "GET")).toEqual([
      expect.objectContaining({
        note: `service token ${session.lab.clientId} passed the Service Auth policy`,
      }),
    ]);
    expect(entries(run.trace, "demo-api", "GET")).toEqual([
      expect.objectContaining({
        status: 101,
        note: expect.stringMatching(
          new RegExp(
            `^WebSocket echo opened; caller: service token ${session.lab.clientId}; identity verified: `,
          ),
        ),
      }),
    ]);
  });

  it("from another origin is refused with 403 cross_site, and the API sees nothing", async () => {
    await freshPage(session, "as-configured", email);
    const { page, lab } = session;
    // The API's own page is another origin of the same site: the browser
    // sends the person's front-end cookie with its socket.
    await signIn(page, session.apiUrl, email);
    const { last: mark } = await lab.log(Number.MAX_SAFE_INTEGER);
    await page.click("#foreign-socket");
    const result = page.locator("#foreign-socket-result[data-outcome]");
    await result.waitFor();
    expect(await result.getAttribute("data-outcome")).toBe("refused");

    // The browser's own requests for the API's page (its favicon) are not the socket's.
    const trace = (await lab.log(mark)).entries.filter((e) => e.url.includes("/live"));
    const [call] = entries(trace, "worker", "GET");
    expect(call).toMatchObject({ status: 403, workerLog: { reason: "cross_site", status: 403 } });
    expect(entries(trace, "api-edge")).toEqual([]);
    expect(entries(trace, "demo-api")).toEqual([]);
  });
});

describe("Chromium's capture of it all", () => {
  it("gives the doctor the ended session and the refused token as root causes", async () => {
    // Closing the browser context is what writes the HAR file.
    await session.context.close();
    const t = triageHar(parseHar(readFileSync(capture, "utf8")));
    const causes = t.items.map((i) => [
      `${i.method} ${new URL(i.url).pathname} → ${i.status}`,
      i.diagnosis.findings.filter((f) => !f.ok).map((f) => f.step),
    ]);
    expect(causes).toEqual([
      ["GET /api/echo → 302", ["access-session"]],
      ["GET /api/echo → 401", ["access-session"]],
      ["GET /api/echo → 502", ["worker"]],
    ]);
    const text = renderHarText("capture.har", t, []);
    expect(text).toContain("Verdict: ✘ 3 request(s) on the stack's route that failed.");
    expect(text).toMatch(/fix: {3}Log in again: .* bridgeFetch from access-bridge\/client/);
    expect(text).toMatch(/fix: {3}Renew the token \(docs\/runbooks\.md/);
  });
});
