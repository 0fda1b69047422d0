/**
 * A front end whose Access app is managed elsewhere (the `managed-frontend`
 * fixture stack sets frontendAud): the program declares no front-end app,
 * so the lab emulates one with that aud and the people policy's rules. The
 * real Worker accepts the person only if that is the aud it was given.
 */
import { peekClaims } from "../../lab/tokens";
import { stackConfig } from "../support/stacks";
import { entries, freshPage, openSession, runCase, type Session } from "./browser-support";

jest.setTimeout(60_000);

const email = "ada@example.com";
const frontendAud = String(stackConfig("managed-frontend")["frontendAud"]);
let session: Session;

beforeAll(async () => {
  session = await openSession("managed-frontend");
}, 90_000);

afterAll(async () => {
  await session?.close();
});

describe("a front end whose Access app is managed elsewhere", () => {
  it("logs the person in with the stack's frontendAud, and the Worker lets them through", async () => {
    await freshPage(session, "as-configured", email);
    const cookie = (await session.context.cookies(session.frontendUrl)).find(
      (c) => c.name === "CF_Authorization",
    );
    expect(peekClaims(cookie?.value ?? "")).toMatchObject({ aud: [frontendAud], email });
    expect(await session.page.locator("#frontend-app").isVisible()).toBe(true);

    const { result, trace } = await runCase(session, "worker");
    expect(result).toMatchObject({ outcome: "ok", status: 200 });
    expect(result.body).toMatchObject({
      caller: { kind: "service-token" },
      identity: { verified: true, sub: email },
    });
    expect(entries(trace, "demo-api", "GET")).toEqual([expect.objectContaining({ status: 200 })]);
  });

  it("admits only the people the people policy admits", async () => {
    await session.context.clearCookies();
    await session.page.goto(session.pageUrl);
    await session.page.fill('input[name="email"]', "mallory@example.net");
    await session.page.click('button[type="submit"]');
    await session.page.waitForSelector(".err");
    expect(await session.page.textContent(".err")).toBe(
      "mallory@example.net is not allowed to use www.example.com.",
    );
    expect(await session.page.textContent(".note:last-of-type")).toContain(
      "dev@example.com, *@example.com",
    );
  });
});
