/**
 * The catalogue of findings, rendered entry by entry: the compiler makes every
 * code have its words, and this checks that the words fill in from what the
 * checks record.
 */
import type { PageContext, ReportContext } from "../../doctor/finding-text";
import { FINDINGS, type FindingCode } from "../../doctor/findings";

const req = {
  url: "https://api.example.com/items",
  origin: "https://www.example.com",
  method: "PUT",
  headers: [{ name: "x-api-key" }],
  credentials: true,
};
/** Every value a check records, so any entry finds the ones it quotes. */
const data = {
  status: 403,
  origin: req.origin,
  allowOrigin: "https://other.example.com",
  difference: "host",
  value: "True",
  method: "PUT",
  allowed: ["GET"],
  requested: ["x-api-key"],
  missing: ["x-api-key"],
  seconds: 600,
  chromium: 7200,
  firefox: 86400,
  headers: "cf-access-client-id",
};
const report: ReportContext = {
  phase: "preflight",
  req,
  res: { status: 403, headers: [{ name: "location", value: "https://team/cdn-cgi/access/login" }] },
  data,
  route: "https://www.example.com/api/*",
};
const page = (preflight: "cloudflare" | "origin"): PageContext => ({
  req,
  data,
  status: 403,
  answeredBy: "Access",
  setting: { frontendHost: "www.example.com", apiHost: "api.example.com", preflight },
});

const codes = Object.keys(FINDINGS) as FindingCode[];
const refusals = codes.flatMap((code) => {
  const text = FINDINGS[code];
  return "title" in text ? [{ code, text }] : [];
});

describe("the catalogue of findings", () => {
  it.each(codes)("renders %s from what the checks record", (code) => {
    const text = FINDINGS[code];
    const words = [text.summary(report)];
    if ("cause" in text) words.push(text.cause(report), text.fix(report));
    if ("title" in text)
      words.push(text.title, text.detail(page("cloudflare")), text.browser(page("cloudflare")));
    for (const w of words) {
      expect(w.length).toBeGreaterThan(0);
      expect(w).not.toMatch(/undefined|\[object /);
    }
  });

  it("names the API's own CORS policy, not a config key, when preflights bypass Access", () => {
    const byKey = refusals.filter(({ text }) =>
      /\(cors\w+\)$/.test(text.detail(page("cloudflare"))),
    );
    expect(byKey.map((r) => r.code.replace(/-.*/, ""))).toEqual([
      ...Array<string>(4).fill("acao"),
      ...Array<string>(2).fill("acac"),
      ...Array<string>(2).fill("methods"),
      ...Array<string>(3).fill("headers"),
    ]);
    for (const { text } of byKey) {
      expect(text.detail(page("origin"))).toMatch(/\(the API's own CORS policy\)$/);
    }
  });

  it("says why `*` does not cover a header on a credentialed request", () => {
    expect(FINDINGS["headers-wildcard-with-credentials"].detail(page("cloudflare"))).toBe(
      "Access-Control-Allow-Headers is *, which with credentials does not cover x-api-key (corsAllowedHeaders)",
    );
  });
});
