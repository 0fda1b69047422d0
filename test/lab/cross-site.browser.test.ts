/**
 * The guide's cross-site set-up (the prod stack: example.com → api.mysite.com)
 * in a browser that blocks third-party cookies. The API's cookie is a
 * third-party cookie there, so a direct credentialed request fails even after
 * logging in to the API; the Worker path, same-origin, still works.
 */
import { chromium } from "playwright-core";
import { headlessFlags } from "../../lab/browser";
import {
  chromiumPath,
  entries,
  expectExplained,
  expectServiceTokenAtApi,
  freshPage,
  openPage,
  openSession,
  runCase,
  signIn,
  type Session,
} from "./browser-support";

jest.setTimeout(60_000);

const email = "ada@example.com";
const crossSiteNote =
  "example.com and api.mysite.com are on different sites (example.com, mysite.com): the browser withholds the API's CF_Authorization cookie as a third-party cookie (third-party cookies are blocked), even after you log in to the API, so direct calls reach Access without a login and only the Worker path works.";
const thirdParty = `third-party cookie: no CF_Authorization cookie reached api.mysite.com, so Access answered 302 to its login page, a redirect without CORS headers. ${crossSiteNote}`;
let session: Session;

beforeAll(async () => {
  session = await openSession("prod");
}, 90_000);

afterAll(async () => {
  await session?.close();
});

describe("cross-site hosts with third-party cookies blocked", () => {
  it("the Worker path works without any API login", async () => {
    await freshPage(session, "as-configured", email);
    expect(new URL(session.page.url()).hostname).toBe("example.com");
    const { result, trace } = await runCase(session, "worker");
    expect(result).toMatchObject({ outcome: "ok", status: 200 });
    const echo = result.body as { caller: { kind: string }; headers: Record<string, string> };
    expect(echo.caller.kind).toBe("service-token");
    expect(echo.headers["x-access-bridge-user-email"]).toBe(email);
    expectServiceTokenAtApi(trace, session.lab.clientId);
  });

  it("direct credentialed requests still fail after logging in to the API: the browser withholds the cookie", async () => {
    await freshPage(session, "as-configured", email);
    await signIn(session.page, session.apiUrl, email);
    const held = await session.context.cookies("https://api.mysite.com/");
    expect(held.map((c) => c.name)).toContain("CF_Authorization");

    await openPage(session, email);
    const simple = await runCase(session, "simple");
    expect(simple.result).toMatchObject({ outcome: "blocked", status: null });
    // The request reached the API's edge without the cookie the browser holds,
    // so Access sent it to the login page.
    expect(entries(simple.trace, "api-edge", "GET")).toEqual([
      expect.objectContaining({ status: 302, login: "none" }),
    ]);
    expect(entries(simple.trace, "demo-api")).toEqual([]);
    expectExplained(simple, thirdParty);

    const preflighted = await runCase(session, "preflighted");
    expect(preflighted.result).toMatchObject({ outcome: "blocked", status: null });
    expect(entries(preflighted.trace, "api-edge", "POST")).toEqual([
      expect.objectContaining({ status: 302 }),
    ]);
    expect(entries(preflighted.trace, "demo-api")).toEqual([]);
    expectExplained(preflighted, thirdParty);

    const viaWorker = await runCase(session, "worker");
    expect(viaWorker.result).toMatchObject({ outcome: "ok", status: 200 });
  });
});

describe("every scenario of the cross-site stack", () => {
  it.each(["as-configured", "origin-not-allowed", "credentials-off"])(
    "says on the page, in %s, that the API's cookie is a third-party cookie",
    async (scenario) => {
      await freshPage(session, scenario, email);
      const note = session.page.locator("#cross-site");
      expect(await note.isVisible()).toBe(true);
      expect(await note.textContent()).toBe(`Cross-site: ${crossSiteNote}`);
    },
  );
});

describe("a browser that does not trust the lab's certificate", () => {
  it("is noticed by the lab, which has nothing else to go on", async () => {
    const { last: mark } = await session.lab.log(Number.MAX_SAFE_INTEGER);
    // The lab's host mapping, but not its certificate.
    const rules = session.lab.hosts.map((h) => `MAP ${h} 127.0.0.1:${session.lab.port}`).join(", ");
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...headlessFlags, `--host-resolver-rules=${rules}`],
    });
    try {
      const page = await browser.newPage();
      await expect(page.goto(session.frontendUrl)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await browser.close();
    }
    const { entries: logged } = await session.lab.log(mark);
    expect(logged).toContainEqual(
      expect.objectContaining({
        party: "lab",
        note: "a client refused the lab's certificate (ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN)",
      }),
    );
  });
});
