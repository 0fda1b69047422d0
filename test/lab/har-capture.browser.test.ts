/**
 * The doctor's HAR triage on a capture Chromium itself recorded in the lab:
 * the login's cross-origin navigations and the Worker path are not findings,
 * the direct calls that the browser refused are, none of the capture's tokens
 * is printed, and where the capture cannot show the credentials mode the
 * doctor offers both reruns, which against the lab give different verdicts.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { harSecrets, parseHar, triageHar, type Har, type TriageItem } from "../../doctor/har";
import { renderHarJson, renderHarText } from "../../doctor/report";
import { runCli } from "../doctor/support/run-cli";
import { freshPage, openSession, runCase, signInToApi } from "./browser-support";

jest.setTimeout(60_000);

const email = "dev@example.com";
let har: Har;
let dir: string;
/** What the lab told its parent: where its certificate is, and the command `npm start` prints. */
let lab: { port: number; certFile: string; tokenFile: string };
let stopLab: () => Promise<void>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "access-bridge-har-"));
  const file = path.join(dir, "capture.har");
  const session = await openSession("dev", { recordHar: file });
  try {
    await freshPage(session, "as-configured", email);
    for (const name of ["worker", "simple", "preflighted"] as const) {
      await runCase(session, name);
    }
    // The case: logged in to the API, credentials off, a simple call refused.
    await freshPage(session, "credentials-off", email);
    await signInToApi(session, email);
    await runCase(session, "simple");
  } finally {
    // Closing the browser context is what writes the HAR file; the lab keeps running.
    await session.context.close();
  }
  const tokenFile = /"\$\(cat (\S+)\)"/.exec(session.lab.doctor)?.[1] ?? "";
  lab = { port: session.lab.port, certFile: session.lab.certFile, tokenFile };
  stopLab = async () => {
    await session.close();
  };
  har = parseHar(readFileSync(file, "utf8"));
}, 120_000);

afterAll(async () => {
  await stopLab?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const where = (i: TriageItem) => `${i.method} ${new URL(i.url).host}${new URL(i.url).pathname}`;

describe("a lab capture from Chromium", () => {
  it("lists exactly the direct calls to the API the browser refused", () => {
    const t = triageHar(har);
    expect(t.items.map(where)).toEqual([
      "GET api.example.com/api/echo",
      "POST api.example.com/api/echo",
      "GET api.example.com/api/echo",
    ]);
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

describe("the credentials mode, which Chromium's capture of a refused request does not show", () => {
  it("is reported as unknown, with both reruns, the credentialed one first", () => {
    for (const item of triageHar(har).items) {
      expect(item.credentialsEvidence.mode).toBe("unknown");
      expect(item.reruns.map((r) => r.label)).toEqual(["with credentials", "without credentials"]);
      expect(item.reruns[0]?.command).toContain("--credentials");
      expect(item.reruns[1]?.command).not.toContain("--credentials");
    }
  });

  /** A rerun pointed at the lab: the API's name on the lab's port, the lab's certificate, and a login. */
  const rerun = (item: TriageItem, credentials: boolean) => {
    const url = new URL(item.url);
    url.port = String(lab.port);
    return runCli([
      "--url",
      url.href,
      "--origin",
      item.origin,
      "--method",
      item.method,
      ...(credentials
        ? ["--credentials", "--access-token", readFileSync(lab.tokenFile, "utf8")]
        : []),
      "--resolve",
      `${url.hostname}:${lab.port}:127.0.0.1`,
      "--cacert",
      lab.certFile,
    ]);
  };

  it("and the two reruns differ: only the credentialed one finds the rule the browser applied", async () => {
    const refused = triageHar(har).items[2]!;
    const withCredentials = await rerun(refused, true);
    expect(withCredentials.stderr).toBe("");
    expect(withCredentials.code).toBe(1);
    expect(withCredentials.stdout).toContain("✘ credentials: no Access-Control-Allow-Credentials");
    // Without credentials no login goes with it, and Access answers with its login page.
    const without = await rerun(refused, false);
    expect(without.code).toBe(1);
    expect(without.stdout).toContain("✘ access-login: 302 redirect to the Access login page");
    expect(without.stdout).not.toContain("Access-Control-Allow-Credentials");
  });
});
