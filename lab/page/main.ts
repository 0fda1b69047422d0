/**
 * The lab page: for each API behind the front end, runs the guide's three
 * ways for the front end to reach it and shows what the browser itself
 * reported, plus what each emulated party did with the requests (from the
 * lab's trace).
 */
import type { CaseResult, IdentityCheck } from "./case-result";

/** One API as the page calls it: through its Worker's route, and directly on its own host. */
interface ApiState {
  host: string;
  origin: string;
  routePrefix: string;
  routePattern: string;
  probeHeader: string | null;
  preflight: "cloudflare" | "origin" | "none";
  /** Why direct calls cannot carry this API's cookie, when it is on another site than the front end. */
  crossSite: string | null;
  /** The user's own API in the demo API's place (`--api`), or null. */
  upstream: string | null;
}

interface LabState {
  scenario: { name: string; title: string; summary: string };
  /** Every API's third-party-cookie note, or null when every API shares the front end's site. */
  crossSite: string | null;
  scenarios: { name: string; title: string }[];
  email: string;
  frontendOrigin: string;
  /** Whether the front end's Access app is managed elsewhere (`frontendAud`) and only emulated. */
  frontendManagedElsewhere: boolean;
  /** What the lab cannot evaluate of the apps' policies and treats as satisfied, said plainly. */
  unemulated: string[];
  apis: ApiState[];
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
  /** For a call the Worker answered: the JSON line it logged, as Workers Logs would index it. */
  workerLog?: Record<string, unknown> & { reason: string };
}

/** Why the browser refused a request, from the lab's /__lab/explain (lab/explain.ts). */
interface Explanation {
  rule: string;
  detail: string;
  browser: string;
}

type CaseName = "worker" | "simple" | "preflighted";
const caseNames: readonly CaseName[] = ["worker", "simple", "preflighted"];

interface PageRequest {
  url: string;
  init: RequestInit;
  label: string;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let runs = 0;

function request(api: ApiState, name: CaseName): PageRequest {
  // A fresh query string per run keeps Chromium's preflight cache, which is
  // keyed by URL, from hiding a preflight after the scenario changes.
  const nonce = `run=${++runs}-${Date.now()}`;
  const path = `${api.routePrefix}/echo`;
  if (name === "worker") {
    return { url: `${path}?${nonce}`, init: { credentials: "same-origin" }, label: `GET ${path}` };
  }
  if (name === "simple") {
    return {
      url: `${api.origin}${path}?${nonce}`,
      init: { credentials: "include" },
      label: `GET ${api.origin}${path}`,
    };
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (api.probeHeader) headers[api.probeHeader] = "lab";
  const names = Object.keys(headers).join(", ");
  return {
    url: `${api.origin}${path}?${nonce}`,
    init: {
      method: "POST",
      credentials: "include",
      headers,
      body: JSON.stringify({ hello: "api" }),
    },
    label: `POST ${api.origin}${path} with ${names}`,
  };
}

async function run({ url, init }: PageRequest): Promise<CaseResult> {
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
async function explain({ url, init }: PageRequest): Promise<Explanation[]> {
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
    if (e.workerLog !== undefined) item.append(workerLogLine(e.workerLog));
    list.append(item);
  }
  output.append(list);
  output.dataset["outcome"] = result.outcome;
  output.dataset["result"] = JSON.stringify(result);
  output.dataset["state"] = "done";
}

const preflightWords: Record<ApiState["preflight"], string> = {
  cloudflare: "Access (corsHeaders)",
  origin: "the origin (bypass)",
  none: "nobody (403)",
};

/** One API's part of the page, from the template: its settings, its login links and its three cases. */
function apiSection(api: ApiState): HTMLElement {
  const template = $<HTMLTemplateElement>("api-template");
  const section = (template.content.firstElementChild as HTMLElement).cloneNode(
    true,
  ) as HTMLElement;
  section.dataset["api"] = api.host;
  const part = <T extends HTMLElement>(selector: string): T => section.querySelector(selector) as T;
  part(".api-host").textContent = api.host;
  part(".api-route").textContent = api.routePattern;
  part(".api-preflight").textContent = preflightWords[api.preflight];
  part<HTMLAnchorElement>(".api-login").href = `${api.origin}/`;
  part<HTMLAnchorElement>(".api-logout").href = `${api.origin}/cdn-cgi/access/logout`;
  for (const name of caseNames) {
    part(`code[data-case="${name}"]`).textContent = request(api, name).label;
    const output = part<HTMLOutputElement>(`output[data-case="${name}"]`);
    part<HTMLButtonElement>(`button[data-case="${name}"]`).addEventListener("click", () => {
      output.dataset["state"] = "running";
      void (async () => {
        const before = (await trace(0)).at(-1)?.seq ?? 0;
        // Each case's explanation is asked about the very URL it called.
        const sent = request(api, name);
        const result = await run(sent);
        const reasons = result.outcome === "blocked" ? await explain(sent) : null;
        show(output, result, await trace(before), reasons);
      })();
    });
  }
  return section;
}

async function main(): Promise<void> {
  const state = (await (await fetch("/__lab/state", { cache: "no-store" })).json()) as LabState;
  $("frontend").textContent = state.frontendOrigin;
  $("email").textContent = state.email;
  $("frontend-app").hidden = !state.frontendManagedElsewhere;
  $("unemulated").textContent = state.unemulated.join(" ");
  $("unemulated").hidden = state.unemulated.length === 0;
  $("summary").textContent = `${state.scenario.title}: ${state.scenario.summary}`;
  if (state.crossSite !== null) {
    $("cross-site").textContent = `Cross-site: ${state.crossSite}`;
    $("cross-site").hidden = false;
  }
  const prefixes = state.apis.map((a) => `${a.routePrefix}/`).join(", ");
  const yours = [
    state.upstreams.frontend !== null
      ? `${state.frontendOrigin}/ is your front end (${state.upstreams.frontend}) outside ${prefixes}`
      : null,
    ...state.apis.map((a) =>
      a.upstream !== null
        ? `${a.origin} is your API (${a.upstream}): the cases call ${a.routePrefix}/echo on it`
        : null,
    ),
  ].filter((line): line is string => line !== null);
  if (yours.length > 0) {
    $("upstreams").textContent = yours.join(" · ");
    $("upstreams").hidden = false;
  }
  $("apis").replaceChildren(...state.apis.map(apiSection));

  const select = $<HTMLSelectElement>("scenario");
  for (const s of state.scenarios)
    select.add(new Option(s.title, s.name, false, s.name === state.scenario.name));
  select.addEventListener("change", () => {
    location.href = `/__lab/use?scenario=${encodeURIComponent(select.value)}`;
  });
  document.body.dataset["ready"] = "true";
}

void main();
