/**
 * How the page shows a run: what the browser reported, why it failed when
 * the lab can say, and what each emulated party did meanwhile (the lab's
 * trace, with the Worker's own log line beside each call it answered).
 */
import type { CaseResult, IdentityCheck } from "./case-result";

export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let runs = 0;
/**
 * A fresh query string per run: Chromium's preflight cache, keyed by URL,
 * cannot hide a preflight after the scenario changes, and the lab's trace
 * tells each run's calls apart.
 */
export const nonce = (): string => `run=${++runs}-${Date.now()}`;

/** One entry of the lab's trace (lab/log.ts). */
export interface TraceEntry {
  seq: number;
  party: string;
  method: string;
  url: string;
  status: number;
  note: string;
  /** For a call the Worker answered: the JSON line it logged, as Workers Logs would index it. */
  workerLog?: Record<string, unknown> & { reason: string };
}

/** Why the browser refused a request, from the lab's /__lab/explain (lab/explain.ts). */
export interface Explanation {
  rule: string;
  detail: string;
  browser: string;
}

/** A request one of the cases sends, and how the page labels it. */
export interface PageRequest {
  url: string;
  init: RequestInit;
  label: string;
}

/** A response as the page shows it: its status, and its body as JSON when it is JSON. */
export async function resultOf(response: Response): Promise<CaseResult> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  return { outcome: response.ok ? "ok" : "http-error", status: response.status, error: null, body };
}

function verdict(result: CaseResult): string {
  if (result.outcome === "blocked") return `Blocked by the browser (${result.error})`;
  if (result.outcome === "session-expired")
    return `Session ended: Access answered ${result.status}, and bridgeFetch called onSessionExpired`;
  return `HTTP ${result.status}${result.outcome === "ok" ? " — success" : ""}`;
}

/** Asks the lab which rule the browser applied to what the lab answered this run. */
export async function explain({ url, init }: PageRequest): Promise<Explanation[]> {
  const params = new URLSearchParams({
    url: new URL(url, location.href).href,
    method: init.method ?? "GET",
    headers: Object.keys((init.headers ?? {}) as Record<string, string>).join(","),
    credentials: init.credentials === "include" ? "include" : "omit",
  });
  const response = await fetch(`/__lab/explain?${params.toString()}`, { cache: "no-store" });
  return (await response.json()) as Explanation[];
}

function showWhy(output: HTMLOutputElement, reasons: Explanation[], blocked: boolean): void {
  if (reasons.length === 0 && !blocked) return;
  const why = document.createElement("div");
  why.className = "why";
  if (reasons.length === 0) {
    why.textContent =
      "Why: what the lab answered passes every CORS check, so the reason is not CORS; see the browser's console.";
    output.append(why);
    return;
  }
  why.textContent = `Why: ${reasons.map((r) => `${r.rule}: ${r.detail}`).join("; ")}`;
  output.append(why);
  for (const r of reasons.filter((x) => x.browser !== "")) {
    const says = document.createElement("div");
    says.className = "browser-says";
    says.textContent = `Chromium's console: ${r.browser}`;
    output.append(says);
  }
}

/** What the demo API made of the Worker's signed statement of who called. */
function showIdentity(output: HTMLOutputElement, body: unknown): void {
  const identity = (body as { identity?: IdentityCheck } | null)?.identity;
  if (identity === undefined) return;
  const line = document.createElement("div");
  line.className = "identity";
  line.dataset["verified"] = String(identity.verified);
  line.textContent = identity.verified
    ? `Identity: verified by the API with identityJwks: ${identity.sub} (${identity.kind}), from X-Access-Bridge-Identity`
    : `Identity: not verified: ${identity.reason}`;
  output.append(line);
}

/** The Worker's own line for a call, under it: its reason first, then the line as logged. */
function workerLogLine(line: NonNullable<TraceEntry["workerLog"]>): HTMLElement {
  const block = document.createElement("div");
  block.className = "worker-log";
  block.dataset["reason"] = line.reason;
  const reason = document.createElement("strong");
  reason.textContent = `reason: ${line.reason}`;
  const json = document.createElement("code");
  json.textContent = JSON.stringify(line);
  block.append("Worker log ", reason, " ", json);
  return block;
}

export async function trace(since: number): Promise<TraceEntry[]> {
  const response = await fetch(`/__lab/log?since=${since}`, { cache: "no-store" });
  return (await response.json()) as TraceEntry[];
}

export function show(
  output: HTMLOutputElement,
  result: CaseResult,
  entries: TraceEntry[],
  reasons: Explanation[] | null,
): void {
  output.replaceChildren();
  const line = document.createElement("div");
  line.className = "verdict";
  line.textContent = verdict(result);
  output.append(line);
  if (reasons !== null) showWhy(output, reasons, result.outcome === "blocked");
  showIdentity(output, result.body);
  if (result.body !== null && result.body !== "") {
    const pre = document.createElement("pre");
    pre.textContent =
      typeof result.body === "string" ? result.body : JSON.stringify(result.body, null, 2);
    output.append(pre);
  }
  const list = document.createElement("ol");
  list.className = "trace";
  for (const e of entries.filter((x) => x.party !== "idp")) {
    const item = document.createElement("li");
    const path = e.url ? new URL(e.url).host + new URL(e.url).pathname : "";
    item.textContent = `${e.party}: ${e.method} ${path}${e.status ? ` → ${e.status}` : ""} `;
    const note = document.createElement("span");
    note.textContent = e.note;
    item.append(note);
    if (e.workerLog !== undefined) item.append(workerLogLine(e.workerLog));
    list.append(item);
  }
  output.append(list);
  output.dataset["outcome"] = result.outcome;
  output.dataset["result"] = JSON.stringify(result);
  output.dataset["state"] = "done";
}
