/**
 * What the words for a finding are written from, and what they must say: the
 * doctor's report needs a line, and for a problem its cause and fix; the lab's
 * page needs, for a refusal, the rule's name, its reason in the stack's terms
 * and Chromium's console message. findings.ts and answer-findings.ts hold
 * the words; the phrases at the end are ones several of them share.
 */
import { getHeader, type CheckResult, type CorsRequest, type ResponseView } from "./cors-check";
import { redactUrl } from "./redact";

export type Phase = "preflight" | "actual";

/**
 * Names used in `fixKeys`: the stack's config keys, plus the guide's options.
 * `log-in-first` and `worker` are the guide's options 1 and 2 for simple
 * requests; `preflight` covers its CORS-settings and OPTIONS-bypass options.
 * `bridge-fetch` is the front end's `access-bridge/client`; `service-token`,
 * renewing or rotating the token and the API app's Service Auth policy.
 */
export type FixKey =
  | "corsAllowedOrigins"
  | "corsAllowedMethods"
  | "corsAllowedHeaders"
  | "corsAllowCredentials"
  | "corsMaxAge"
  | "preflight"
  | "log-in-first"
  | "worker"
  | "api-cors"
  | "request"
  | "bridge-fetch"
  | "service-token";

/** The facts about the stack that decide the lab page's wording. */
export interface Setting {
  frontendHost: string;
  apiHost: string;
  /** `origin` when preflights bypass Access and the API's own CORS policy answers. */
  preflight: "cloudflare" | "origin" | "none";
}

/** What the doctor's words are about. */
export interface ReportContext {
  phase: Phase;
  req: CorsRequest;
  res: ResponseView;
  /** The check's values; empty for a finding no check names. */
  data: CheckResult["data"];
  /** The stack's Worker route in front of the API, `https://<front end><prefix>/*`. */
  route: string;
}

/** What the lab page's words are about. */
export interface PageContext {
  req: CorsRequest;
  /** The check's values; empty for a finding no check names. */
  data: CheckResult["data"];
  status: number;
  /** `Access` or `the API`. */
  answeredBy: string;
  setting: Setting;
}

/** A step the response passes: one line in the doctor's report. */
export interface Passed {
  summary(c: ReportContext): string;
}

/** The browser allows the request, but something deserves a change. */
export interface Warning extends Passed {
  cause(c: ReportContext): string;
  fix(c: ReportContext): string;
  fixKeys: readonly FixKey[] | ((c: ReportContext) => FixKey[]);
}

/** The browser refuses the request. */
export interface Refusal extends Warning {
  /** The rule's short name, as the lab page's "Why:" line opens, e.g. `header not allowed`. */
  title: string;
  /** The rule in the stack's terms, ending with what to change. */
  detail(c: PageContext): string;
  /**
   * Chromium's console message: for a CORS refusal, what follows "… has
   * been blocked by CORS policy: " (the lab adds the preflight's preamble
   * where Chromium does); for an answer the page can read, the whole line.
   */
  browser(c: PageContext): string;
}

/** Chromium's console messages that findings of several codes share. */
export const CHROMIUM = {
  noAllowOrigin: "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
  notOk: "It does not have HTTP ok status.",
  redirected: "Redirect is not allowed for a preflight request.",
};

/** The answer's Location, as a finding may quote it. */
export function location(c: ReportContext): string {
  return redactUrl(getHeader(c.res.headers, "location") ?? "");
}
