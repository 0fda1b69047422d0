/**
 * The people policy's rules in the lab (the `rules` fixture stack): an
 * excluded address is refused at the login, a policy that requires MFA has
 * the login ask for a second factor, and what the lab cannot evaluate (a
 * GitHub team) is named on the page as treated as satisfied.
 */
import { peekClaims } from "../../lab/tokens";
import { entries, openSession, runCase, type Session } from "./browser-support";

jest.setTimeout(60_000);

let session: Session;

beforeAll(async () => {
  session = await openSession("rules");
}, 90_000);

afterAll(async () => {
  await session?.close();
});

/** Submits the login form the front end's edge sent the browser to. */
async function submitLogin(email: string, secondFactor: boolean): Promise<void> {
  const { page } = session;
  await page.fill('input[name="email"]', email);
  if (secondFactor) await page.check('input[name="mfa"]');
  await page.click('button[type="submit"]');
}

describe("the people policy's rules in the lab", () => {
  it("refuses an excluded address at the login, second factor or not", async () => {
    await session.context.clearCookies();
    const { page } = session;
    await page.goto(session.pageUrl);
    await submitLogin("contractor@example.com", true);
    await page.waitForSelector(".err");
    expect(await page.textContent(".err")).toBe(
      "contractor@example.com is excluded from www.example.com by the app's policy.",
    );
    expect(await page.textContent(".note.excluded")).toContain("contractor@example.com");
    const { entries: log } = await session.lab.log(0);
    expect(entries(log, "idp", "POST").at(-1)).toMatchObject({ status: 403 });
  });

  it("asks for a second factor, refuses the login without it and admits it with it", async () => {
    await session.context.clearCookies();
    const { page } = session;
    await page.goto(session.pageUrl);
    expect(await page.isVisible('input[name="mfa"]')).toBe(true);
    expect(await page.textContent("label:has(input[name=mfa])")).toContain("authMethod mfa");

    await submitLogin("ada@example.com", false);
    await page.waitForSelector(".err");
    expect(await page.textContent(".err")).toBe(
      "www.example.com requires multi-factor authentication (authMethod mfa): confirm the second factor.",
    );

    await Promise.all([
      page.waitForURL((u) => u.hostname === "www.example.com"),
      submitLogin("ada@example.com", true),
    ]);
    await page.waitForSelector("body[data-ready=true]");
    const cookie = (await session.context.cookies(session.frontendUrl)).find(
      (c) => c.name === "CF_Authorization",
    );
    expect(peekClaims(cookie?.value ?? "")).toMatchObject({
      email: "ada@example.com",
      amr: ["pwd", "mfa"],
    });
    const { result } = await runCase(session, "worker");
    expect(result).toMatchObject({ outcome: "ok", status: 200 });
  });

  it("says on the page and on the login which rules it cannot emulate and treats as satisfied", async () => {
    const { page } = session;
    expect(await page.textContent("#unemulated")).toMatch(
      /Not emulated here, treated as satisfied .*: include githubOrganization/,
    );
    await session.context.clearCookies();
    await page.goto(session.pageUrl);
    expect(await page.textContent(".note.unemulated")).toContain("include githubOrganization");
  });
});
