/**
 * The guide's cross-site set-up (the prod stack: example.com → api.mysite.com)
 * in a browser that blocks third-party cookies. The API's cookie is a
 * third-party cookie there, so a direct credentialed request fails even after
 * logging in to the API; the Worker path, same-origin, still works.
 */
import {
  entries,
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
    const { result, trace } = await runCase(session, "simple");
    expect(result).toMatchObject({ outcome: "blocked", status: null });
    // The request reached the API's edge without the cookie the browser holds,
    // so Access sent it to the login page.
    expect(entries(trace, "api-edge", "GET")).toEqual([expect.objectContaining({ status: 302 })]);
    expect(entries(trace, "demo-api")).toEqual([]);

    const preflighted = await runCase(session, "preflighted");
    expect(preflighted.result).toMatchObject({ outcome: "blocked", status: null });
    expect(entries(preflighted.trace, "api-edge", "POST")).toEqual([
      expect.objectContaining({ status: 302 }),
    ]);
    expect(entries(preflighted.trace, "demo-api")).toEqual([]);

    const viaWorker = await runCase(session, "worker");
    expect(viaWorker.result).toMatchObject({ outcome: "ok", status: 200 });
  });
});
