/**
 * What the browser reported for one run: a response (any status), a refusal
 * before any response was exposed, or Access's answer that the session
 * ended, which bridgeFetch handed to the page's onSessionExpired.
 */
export interface CaseResult {
  outcome: "ok" | "http-error" | "blocked" | "session-expired";
  status: number | null;
  error: string | null;
  body: unknown;
}

/** What the demo API made of X-Access-Bridge-Identity, verified as an API should. */
export type IdentityCheck =
  | { verified: true; kind: "person" | "service"; sub: string; email?: string }
  | { verified: false; reason: string };
