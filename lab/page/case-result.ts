/** What the browser reported for one run: a response (any status) or a refusal before any response was exposed. */
export interface CaseResult {
  outcome: "ok" | "http-error" | "blocked";
  status: number | null;
  error: string | null;
  body: unknown;
}
