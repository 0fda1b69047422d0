/**
 * The lab page: for each API behind the front end, runs the guide's three
 * ways for the front end to reach it and shows what the browser itself
 * reported, plus what each emulated party did with the requests (from the
 * lab's trace); failures.ts adds what breaks in production.
 */
import type { CaseResult } from "./case-result";
import { failureCases, faultControls, type Faults } from "./failures";
import { $, explain, nonce, resultOf, show, trace, type PageRequest } from "./show";

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
  faults: Faults;
  logSeq: number;
}

type CaseName = "worker" | "simple" | "preflighted";
const caseNames: readonly CaseName[] = ["worker", "simple", "preflighted"];

function request(api: ApiState, name: CaseName): PageRequest {
  const query = nonce();
  const path = `${api.routePrefix}/echo`;
  if (name === "worker") {
    return { url: `${path}?${query}`, init: { credentials: "same-origin" }, label: `GET ${path}` };
  }
  if (name === "simple") {
    return {
      url: `${api.origin}${path}?${query}`,
      init: { credentials: "include" },
      label: `GET ${api.origin}${path}`,
    };
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (api.probeHeader) headers[api.probeHeader] = "lab";
  const names = Object.keys(headers).join(", ");
  return {
    url: `${api.origin}${path}?${query}`,
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
    return await resultOf(await fetch(url, { ...init, cache: "no-store" }));
  } catch (err) {
    return { outcome: "blocked", status: null, error: String(err), body: null };
  }
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
        const reasons = result.outcome !== "ok" ? await explain(sent) : null;
        show(output, result, await trace(before), reasons);
      })();
    });
  }
  failureCases(section, api);
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
  faultControls(state.faults);

  const select = $<HTMLSelectElement>("scenario");
  for (const s of state.scenarios)
    select.add(new Option(s.title, s.name, false, s.name === state.scenario.name));
  select.addEventListener("change", () => {
    location.href = `/__lab/use?scenario=${encodeURIComponent(select.value)}`;
  });
  document.body.dataset["ready"] = "true";
}

void main();
