/**
 * The page's explanations, from what the lab's parties answered, tested
 * directly; and the lab's files: one key for every stack, a certificate per stack.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { displayPath, labDoctorCommand } from "../../lab/doctor-command";
import type { Setting } from "../../doctor/finding-text";
import { isCrossSite, siteOf } from "../../doctor/sites";
import { explainFailure, type PageRequest } from "../../lab/explain";
import type { LogEntry } from "../../lab/log";
import { cachedCertificate, certificateHosts, labFiles } from "../../lab/tls";

const url = "https://api.example.com/api/echo?run=1";
const sameSite: Setting = {
  frontendHost: "www.example.com",
  apiHost: "api.example.com",
  preflight: "cloudflare",
};
const crossSite: Setting = { ...sameSite, frontendHost: "example.com", apiHost: "api.mysite.com" };
const preflighted: PageRequest = {
  url,
  origin: "https://www.example.com",
  method: "POST",
  headers: ["content-type", "x-requested-with"],
  credentials: true,
};
const simple: PageRequest = { ...preflighted, method: "GET", headers: [] };

let seq = 0;
const entry = (
  party: LogEntry["party"],
  method: string,
  status: number,
  headers: Record<string, string> | undefined,
  extra: Partial<LogEntry> = {},
): LogEntry => ({
  seq: ++seq,
  party,
  method,
  url,
  status,
  note: "",
  ...(headers !== undefined ? { answer: { headers } } : {}),
  ...extra,
});
const granted = {
  vary: "Origin",
  "access-control-allow-origin": "https://www.example.com",
  "access-control-allow-credentials": "true",
  "access-control-allow-methods": "POST",
  "access-control-allow-headers": "content-type, x-requested-with",
};
const without = (name: string): Record<string, string> => {
  const h: Record<string, string> = { ...granted };
  delete h[name];
  return h;
};

describe("explainFailure", () => {
  it("names the header a preflight answer leaves out, with its config key, as Chromium does", () => {
    const answer = { ...granted, "access-control-allow-headers": "content-type" };
    expect(
      explainFailure(preflighted, [entry("api-edge", "OPTIONS", 200, answer)], sameSite),
    ).toEqual([
      {
        rule: "header not allowed",
        detail: "x-requested-with is not in Access-Control-Allow-Headers (corsAllowedHeaders)",
        browser:
          "Request header field x-requested-with is not allowed by Access-Control-Allow-Headers in preflight response.",
      },
    ]);
  });

  it("names credentials off, on a preflight and on an actual response", () => {
    const noCredentials = without("access-control-allow-credentials");
    const [pre] = explainFailure(
      preflighted,
      [entry("api-edge", "OPTIONS", 200, noCredentials)],
      sameSite,
    );
    expect(pre?.rule).toBe("credentials off");
    expect(pre?.detail).toBe("Access-Control-Allow-Credentials missing (corsAllowCredentials)");
    expect(pre?.browser).toMatch(
      /^Response to preflight request doesn't pass access control check: The value of the 'Access-Control-Allow-Credentials' header in the response is ''/,
    );
    const [actual] = explainFailure(
      simple,
      [entry("demo-api", "GET", 200, noCredentials)],
      sameSite,
    );
    expect(actual?.detail).toBe("Access-Control-Allow-Credentials missing (corsAllowCredentials)");
    expect(actual?.browser).toMatch(/^The value of the 'Access-Control-Allow-Credentials' header/);
  });

  it("names an origin that is not allowed, and nothing after it", () => {
    expect(
      explainFailure(
        preflighted,
        [entry("api-edge", "OPTIONS", 200, { vary: "Origin" })],
        sameSite,
      ),
    ).toEqual([
      {
        rule: "origin not allowed",
        detail:
          "Access-Control-Allow-Origin missing for https://www.example.com (corsAllowedOrigins)",
        browser:
          "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
      },
    ]);
  });

  it("gives Access's 403 to a preflight as the cause, and Chromium's missing-header message as what it says", () => {
    const [why] = explainFailure(
      preflighted,
      [entry("api-edge", "OPTIONS", 403, { "content-type": "text/plain" })],
      sameSite,
    );
    expect(why?.rule).toBe("preflight refused");
    expect(why?.detail).toMatch(/neither CORS settings nor OPTIONS bypass \(preflight\)$/);
    expect(why?.browser).toMatch(/No 'Access-Control-Allow-Origin' header is present/);
  });

  it("names the API's own policy when preflights bypass Access", () => {
    const [why] = explainFailure(simple, [entry("demo-api", "GET", 200, { vary: "Origin" })], {
      ...sameSite,
      preflight: "origin",
    });
    expect(why?.detail).toBe(
      "Access-Control-Allow-Origin missing for https://www.example.com (the API's own CORS policy)",
    );
  });

  it("tells not logged in from a login Access did not accept", () => {
    const redirect = { location: "https://team/cdn-cgi/access/login/api.example.com" };
    const none = explainFailure(
      simple,
      [entry("api-edge", "GET", 302, redirect, { login: "none" })],
      sameSite,
    );
    expect(none.map((e) => e.rule)).toEqual(["not logged in to the API"]);
    const stale = explainFailure(
      simple,
      [entry("api-edge", "GET", 302, redirect, { login: "not accepted" })],
      sameSite,
    );
    expect(stale.map((e) => e.rule)).toEqual(["API login not accepted"]);
  });

  it("gives the third-party-cookie reason on a cross-site stack", () => {
    const [why] = explainFailure(
      { ...simple, origin: "https://example.com" },
      [entry("api-edge", "GET", 302, { location: "https://team/login" }, { login: "none" })],
      crossSite,
    );
    expect(why?.rule).toBe("third-party cookie");
    expect(why?.detail).toContain(
      "the browser withholds the API's CF_Authorization cookie as a third-party cookie",
    );
    expect(why?.browser).toBe(
      "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
    );
  });

  it("names the ended session when the front end's Access answered the route itself", () => {
    const route: PageRequest = {
      ...simple,
      url: "https://www.example.com/api/echo?run=2",
      credentials: false,
    };
    const login = { location: "https://team/cdn-cgi/access/login/www.example.com" };
    const ended = (status: number, headers: Record<string, string>) =>
      explainFailure(
        route,
        [entry("frontend-edge", "GET", status, headers, { login: "not accepted" })],
        sameSite,
      );
    expect(ended(302, login)).toEqual([
      {
        rule: "session ended",
        detail:
          "the front end's Access session ended, so Access answered /api/echo with 302 to its login page, a redirect without CORS headers, before the Worker ran (log in again; bridgeFetch sends X-Requested-With: XMLHttpRequest to get a 401 instead and recovers)",
        browser: "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
      },
    ]);
    const [xhr] = ended(401, { "content-type": "text/plain" });
    expect(xhr?.browser).toBe(
      "Failed to load resource: the server responded with a status of 401 (Unauthorized)",
    );
  });

  it("names the refused service token from the Worker's log line, before anything else", () => {
    const line = { reason: "service_token_refused", requestId: "ab-LAB", status: 502 };
    const [why] = explainFailure(
      { ...simple, url: "https://www.example.com/api/echo?run=3", credentials: false },
      [
        entry("api-edge", "GET", 302, { location: "https://team/cdn-cgi/access/login/api" }),
        entry("worker", "GET", 502, undefined, { workerLog: line }),
      ],
      sameSite,
    );
    expect(why).toEqual({
      rule: "service token refused",
      detail:
        "the API's Access (api.example.com) sent the Worker's service token to its login, so the Worker answered 502 service_token_refused: the token expired, was revoked, was rotated past its grace period, or no Service Auth policy admits it (renew or rotate it, docs/runbooks.md, and check the API app's Service Auth policy)",
      browser: "Failed to load resource: the server responded with a status of 502 (Bad Gateway)",
    });
  });

  it("explains nothing when what the lab answered passes every check", () => {
    expect(
      explainFailure(
        preflighted,
        [entry("api-edge", "OPTIONS", 200, granted), entry("demo-api", "POST", 200, granted)],
        sameSite,
      ),
    ).toEqual([]);
  });
});

describe("siteOf", () => {
  it("tells same-site from cross-site hosts", () => {
    expect(siteOf("www.example.com")).toBe("example.com");
    expect(siteOf("api.example.co.uk")).toBe("example.co.uk");
    expect(isCrossSite(sameSite)).toBe(false);
    expect(isCrossSite(crossSite)).toBe(true);
  });
});

describe("the doctor command the lab prints", () => {
  it("keeps the API's name, and maps it to the lab with --resolve and trusts its certificate", () => {
    const root = "/work/repo";
    const command = labDoctorCommand(
      {
        port: 8443,
        apiHost: "api.example.com",
        frontendHost: "www.example.com",
        routePrefix: "/api",
        probeHeader: "x-requested-with",
        certFile: "/work/repo/.lab/cert-dev.pem",
        tokenFile: "/work/repo/.lab/api-token-dev",
      },
      root,
    );
    expect(command).toBe(
      "npm run -s doctor -- --url https://api.example.com:8443/api/echo --origin https://www.example.com --method POST --header 'Content-Type: application/json' --header x-requested-with --credentials --access-token \"$(cat .lab/api-token-dev)\" --resolve api.example.com:8443:127.0.0.1 --cacert .lab/cert-dev.pem",
    );
    expect(displayPath("/tmp/x/cert.pem", root)).toBe("/tmp/x/cert.pem");
  });
});

describe("the lab's certificates", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "lab-tls-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps one key for every stack, so Chromium's trust by SPKI hash survives a switch", async () => {
    const dev = await cachedCertificate(dir, "dev", ["www.example.com", "api.example.com"]);
    const prod = await cachedCertificate(dir, "prod", ["example.com", "api.mysite.com"]);
    expect(prod.spki).toBe(dev.spki);
    expect(prod.cert).not.toBe(dev.cert);
    expect(certificateHosts(readFileSync(labFiles(dir, "prod").cert, "utf8"))).toEqual([
      "api.mysite.com",
      "example.com",
    ]);
    expect(statSync(labFiles(dir, "dev").key).mode & 0o077).toBe(0);
  });

  it("reuses a stack's certificate, and reissues it for the same key when the hosts change", async () => {
    const files = labFiles(dir, "dev");
    const first = await cachedCertificate(dir, "dev", ["www.example.com", "api.example.com"]);
    const again = await cachedCertificate(dir, "dev", ["api.example.com", "www.example.com"]);
    expect(again.cert).toBe(first.cert);
    expect(again.file).toBe(files.cert);
    const more = await cachedCertificate(dir, "dev", ["www.example.com", "api.example.org"]);
    expect(more.cert).not.toBe(first.cert);
    expect(more.spki).toBe(first.spki);
    expect(new X509Certificate(readFileSync(files.cert, "utf8")).subjectAltName).toContain(
      "api.example.org",
    );
  });

  it("replaces an unreadable certificate file", async () => {
    const files = labFiles(dir, "broken");
    writeFileSync(files.cert, "not a certificate");
    const cert = await cachedCertificate(dir, "broken", ["www.example.com"]);
    expect(existsSync(files.cert)).toBe(true);
    expect(readFileSync(files.cert, "utf8")).toBe(cert.cert);
  });
});
