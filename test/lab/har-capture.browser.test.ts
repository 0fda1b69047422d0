/**
 * The doctor's HAR triage on a capture Chromium itself recorded in the lab:
 * the login's cross-origin navigations and the Worker path are not findings,
 * the two direct calls that the browser refused are, and none of the
 * capture's tokens is printed.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { harSecrets, parseHar, triageHar, type Har } from "../../doctor/har";
import { renderHarJson, renderHarText } from "../../doctor/report";
import { freshPage, openSession, runCase } from "./browser-support";

jest.setTimeout(60_000);

const email = "dev@example.com";
let har: Har;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "access-bridge-har-"));
  const file = path.join(dir, "capture.har");
  const session = await openSession("dev", { recordHar: file });
  try {
    await freshPage(session, "as-configured", email);
    for (const name of ["worker", "simple", "preflighted"] as const) {
      await runCase(session, name);
    }
  } finally {
    // Closing the browser context is what writes the HAR file.
    await session.close();
  }
  har = parseHar(readFileSync(file, "utf8"));
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a lab capture from Chromium", () => {
  it("lists exactly the direct calls to the API the browser refused", () => {
    const t = triageHar(har);
    expect(
      t.items.map((i) => `${i.method} ${new URL(i.url).host}${new URL(i.url).pathname}`),
    ).toEqual(["GET api.example.com/api/echo", "POST api.example.com/api/echo"]);
    for (const item of t.items) {
      expect(item.origin).toBe("https://www.example.com");
      expect(item.diagnosis.verdict).toBe("blocked");
    }
    const worker = har.log.entries.filter((e) =>
      e.request.url.startsWith("https://www.example.com/api/"),
    );
    expect(worker.map((e) => e.response.status)).toEqual([200]);
  });

  it("never prints the tokens the capture holds", () => {
    const secrets = harSecrets(har);
    // The front end's CF_Authorization cookie and the login's one-time token are in there.
    expect(secrets.some((s) => s.startsWith("eyJ"))).toBe(true);
    const t = triageHar(har);
    const printed =
      renderHarText("capture.har", t, secrets) + renderHarJson("capture.har", t, secrets);
    for (const secret of secrets) expect(printed).not.toContain(secret);
  });
});
