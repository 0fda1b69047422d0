/** What the browser reported for one run: a response (any status) or a refusal before any response was exposed. */
export interface CaseResult {
  outcome: "ok" | "http-error" | "blocked";
  status: number | null;
  error: string | null;
  body: unknown;
}

/** What the demo API made of X-Access-Bridge-Identity, verified as an API should. */
export type IdentityCheck =
  | { verified: true; kind: "person" | "service"; sub: string; email?: string }
  | { verified: false; reason: string };
