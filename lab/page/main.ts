/**
 * The lab page: runs the guide's three ways for the front end to reach the
 * API and shows what the browser itself reported, plus what each emulated
 * party did with the requests (from the lab's trace).
 */
import type { CaseResult, IdentityCheck } from "./case-result";

interface LabState {
  scenario: { name: string; title: string; summary: string };
  /** Why direct calls cannot carry the API's cookie, on a stack whose front end and API are on different sites. */
  crossSite: string | null;
  scenarios: { name: string; title: string }[];
  email: string;
  frontendOrigin: string;
  apiOrigin: string;
  routePrefix: string;
  probeHeader: string | null;
  preflight: "cloudflare" | "origin" | "none";
  /** The user's own servers the lab stands in front of (`--frontend`, `--api`). */
  upstreams: { frontend: string | null; api: string | null };
  logSeq: number;
}

interface TraceEntry {
  seq: number;
  party: string;
  method: string;
  url: string;
  status: number;
  note: string;
}

/** Why the browser refused a request, from the lab's /__lab/explain (lab/explain.ts). */
interface Explanation {
  rule: string;
  detail: string;
  browser: string;
}

type CaseName = "worker" | "simple" | "preflighted";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let runs = 0;

function request(
  state: LabState,
  name: CaseName,
): { url: string; init: RequestInit; label: string } {
  // A fresh query string per run keeps Chromium's preflight cache, which is
  // keyed by URL, from hiding a preflight after the scenario changes.
  const nonce = `run=${++runs}-${Date.now()}`;
  if (name === "worker") {
    const url = `${state.routePrefix}/echo?${nonce}`;
    return { url, init: { credentials: "same-origin" }, label: `GET ${state.routePrefix}/echo` };
  }
  if (name === "simple") {
    const url = `${state.apiOrigin}${state.routePrefix}/echo?${nonce}`;
    return {
      url,
      init: { credentials: "include" },
      label: `GET ${state.apiOrigin}${state.routePrefix}/echo`,
    };
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (state.probeHeader) headers[state.probeHeader] = "lab";
  const url = `${state.apiOrigin}${state.routePrefix}/echo?${nonce}`;
  const names = Object.keys(headers).join(", ");
  return {
    url,
    init: {
      method: "POST",
      credentials: "include",
      headers,
      body: JSON.stringify({ hello: "api" }),
    },
    label: `POST ${state.apiOrigin}${state.routePrefix}/echo with ${names}`,
  };
}

/** Each case's last request, so its explanation is asked about the same URL. */
const lastRun: Partial<Record<CaseName, { url: string; init: RequestInit }>> = {};

async function run(state: LabState, name: CaseName): Promise<CaseResult> {
  const { url, init } = request(state, name);
  lastRun[name] = { url, init };
  try {
    const response = await fetch(url, { ...init, cache: "no-store" });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: shown as text.
    }
    return {
      outcome: response.ok ? "ok" : "http-error",
      status: response.status,
      error: null,
      body,
    };
  } catch (err) {
    return { outcome: "blocked", status: null, error: String(err), body: null };
  }
}

function verdict(result: CaseResult): string {
  if (result.outcome === "blocked") return `Blocked by the browser (${result.error})`;
  return `HTTP ${result.status}${result.outcome === "ok" ? " — success" : ""}`;
}

/** Asks the lab which rule the browser applied to what the lab answered this run. */
async function explain(state: LabState, name: CaseName): Promise<Explanation[]> {
  const { url, init } = lastRun[name] ?? request(state, name);
  const params = new URLSearchParams({
    url: new URL(url, location.href).href,
    method: init.method ?? "GET",
    headers: Object.keys((init.headers ?? {}) as Record<string, string>).join(","),
    credentials: init.credentials === "include" ? "include" : "omit",
  });
  const response = await fetch(`/__lab/explain?${params.toString()}`, { cache: "no-store" });
  return (await response.json()) as Explanation[];
}

function showWhy(output: HTMLOutputElement, reasons: Explanation[]): void {
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

async function trace(since: number): Promise<TraceEntry[]> {
  const response = await fetch(`/__lab/log?since=${since}`, { cache: "no-store" });
  return (await response.json()) as TraceEntry[];
}

function show(
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
  if (reasons !== null) showWhy(output, reasons);
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
    list.append(item);
  }
  output.append(list);
  output.dataset["outcome"] = result.outcome;
  output.dataset["result"] = JSON.stringify(result);
  output.dataset["state"] = "done";
}

async function main(): Promise<void> {
  const state = (await (await fetch("/__lab/state", { cache: "no-store" })).json()) as LabState;
  $("frontend").textContent = state.frontendOrigin;
  $("api").textContent = state.apiOrigin;
  $("email").textContent = state.email;
  $("preflight").textContent =
    state.preflight === "cloudflare"
      ? "Access (corsHeaders)"
      : state.preflight === "origin"
        ? "the origin (bypass)"
        : "nobody (403)";
  $("summary").textContent = `${state.scenario.title}: ${state.scenario.summary}`;
  if (state.crossSite !== null) {
    $("cross-site").textContent = `Cross-site: ${state.crossSite}`;
    $("cross-site").hidden = false;
  }
  const yours = [
    state.upstreams.frontend !== null
      ? `${state.frontendOrigin}/ is your front end (${state.upstreams.frontend}) outside ${state.routePrefix}/`
      : null,
    state.upstreams.api !== null
      ? `${state.apiOrigin} is your API (${state.upstreams.api}): the cases call ${state.routePrefix}/echo on it`
      : null,
  ].filter((line): line is string => line !== null);
  if (yours.length > 0) {
    $("upstreams").textContent = yours.join(" · ");
    $("upstreams").hidden = false;
  }
  $<HTMLAnchorElement>("api-login").href = `${state.apiOrigin}/`;
  $<HTMLAnchorElement>("api-logout").href = `${state.apiOrigin}/cdn-cgi/access/logout`;
  for (const name of ["worker", "simple", "preflighted"] as const) {
    $(name === "worker" ? "worker-request" : `${name}-request`).textContent = request(
      state,
      name,
    ).label;
  }

  const select = $<HTMLSelectElement>("scenario");
  for (const s of state.scenarios)
    select.add(new Option(s.title, s.name, false, s.name === state.scenario.name));
  select.addEventListener("change", () => {
    location.href = `/__lab/use?scenario=${encodeURIComponent(select.value)}`;
  });

  for (const button of Array.from(
    document.querySelectorAll<HTMLButtonElement>("button[data-case]"),
  )) {
    button.addEventListener("click", () => {
      const name = button.dataset["case"] as CaseName;
      const output = $<HTMLOutputElement>(`result-${name}`);
      output.dataset["state"] = "running";
      void (async () => {
        const before = (await trace(0)).at(-1)?.seq ?? 0;
        const result = await run(state, name);
        const reasons = result.outcome === "blocked" ? await explain(state, name) : null;
        show(output, result, await trace(before), reasons);
      })();
    });
  }
  document.body.dataset["ready"] = "true";
}

void main();
