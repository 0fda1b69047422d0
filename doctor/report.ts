/**
 * Rendering: a terminal report with one ✔/✘ line per step, or JSON. Every
 * output passes through scrub() so no secret value can be printed.
 */
import type { CorsRequest } from "./cors-check";
import type { Diagnosis, Finding } from "./diagnose";
import { workerAnswerText } from "./findings";
import type { Triage, TriageItem } from "./har";
import { hasLogin, type Exchange, type Login } from "./live";
import { redactHeaders, redactUrl, scrub } from "./redact";
import { isSameOrigin } from "./sites";

const MARK = { pass: "✔", fail: "✘", warn: "⚠", "not-evaluated": "·" } as const;

/** What the live report needs beyond the exchange: how the check was run. */
export interface LiveContext {
  preflightOnly?: boolean;
  login?: Login;
  /** The same check with an Access token, for when the API asked for a login. */
  rerunWithLogin?: string;
}

function renderFinding(f: Finding): string[] {
  const lines = [`  ${MARK[f.severity]} ${f.step}: ${f.summary}`];
  if (f.cause !== undefined) lines.push(`      cause: ${f.cause}`);
  if (f.fix !== undefined) lines.push(`      fix:   ${f.fix}`);
  return lines;
}

function verdictLine(d: Diagnosis): string {
  if (d.verdict === "allowed") {
    return "Verdict: ✔ allowed: a browser would let the page read this response.";
  }
  if (d.notJudged !== undefined) {
    return d.verdict === "blocked"
      ? `Verdict: ✘ blocked for a browser that is not logged in to ${d.notJudged.api} (the page sees a CORS error).`
      : `Verdict: ✘ not judged: a browser that is not logged in to ${d.notJudged.api} reads this ${d.notJudged.answer}; a logged-in one gets another answer.`;
  }
  return "Verdict: ✘ blocked: a browser would refuse this request (the page sees a CORS error).";
}

/** Why the verdict is only the logged-out browser's, and how to get the logged-in one. */
function notJudgedLines(d: Diagnosis, rerun: string | undefined): string[] {
  const n = d.notJudged;
  if (n === undefined) return [];
  return [
    "",
    `The doctor could not judge the request as a logged-in person: it sent no login, and the API answered ${n.answer}, as it does for a browser that is not logged in.`,
    `A logged-in browser sends the API's CF_Authorization cookie. Give the doctor that login as an Access token (\`${n.tokenCommand}\`; run \`cloudflared access login\` first if it has none) and run it again:`,
    ...(rerun !== undefined ? [`  ${rerun}`] : []),
    `or pass the browser's cookie for ${n.api} with --cookie CF_Authorization=<value>.`,
  ];
}

function describeLogin(login: Login | undefined): string {
  if (!hasLogin(login)) return "";
  const parts = [
    ...(login?.accessToken !== undefined ? ["an Access token"] : []),
    ...(login !== undefined && login.cookies.length > 0
      ? [
          `cookie(s) ${login.cookies.map((c) => c.slice(0, Math.max(0, c.indexOf("=")))).join(", ")}`,
        ]
      : []),
  ];
  return ` and a login (${parts.join(", ")})`;
}

function describeRequest(req: CorsRequest, login?: Login): string {
  const headers = req.headers.map((h) => h.name.toLowerCase());
  return (
    `${req.method} ${redactUrl(req.url)} from ${req.origin}` +
    (headers.length > 0 ? `, headers: ${headers.join(", ")}` : "") +
    (req.credentials ? `, with credentials${describeLogin(login)}` : ", without credentials")
  );
}

export function renderLiveText(
  req: CorsRequest,
  d: Diagnosis,
  exchanges: Exchange[],
  secrets: string[],
  context: LiveContext = {},
): string {
  const lines = [`CORS doctor: ${describeRequest(req, context.login)}`];
  lines.push(
    d.preflightNeeded
      ? `A browser sends a preflight first: ${d.preflightReasons.join("; ")}.`
      : isSameOrigin(req)
        ? "No preflight: a same-origin request (the page's own origin)."
        : "No preflight: a simple request (safelisted method and headers).",
  );
  for (const phase of ["preflight", "actual"] as const) {
    const ex = exchanges.find((e) => e.phase === phase);
    const findings = d.findings.filter((f) => f.phase === phase);
    if (ex === undefined) {
      if (phase === "preflight" && !d.preflightNeeded) continue;
      if (phase === "actual") {
        lines.push("", "Actual request: not sent");
        lines.push(
          context.preflightOnly === true
            ? "  (--preflight-only)"
            : "  (a browser stops at a failed preflight; fix it first)",
        );
      }
      continue;
    }
    // Origin is already in the title line; the rest shows exactly what went out.
    const sent = redactHeaders(
      ex.requestHeaders.filter((h) => h.name.toLowerCase() !== "origin"),
    ).map((h) => `${h.name}: ${h.value}`);
    const title = phase === "preflight" ? "Preflight" : "Actual request";
    lines.push("", `${title}: ${ex.method} → ${ex.response.status}`);
    if (ex.response.worker !== undefined) lines.push(`  ${workerAnswerText(ex.response.worker)}`);
    if (sent.length > 0) lines.push(`  sent ${sent.join("; ")}`);
    for (const f of findings) lines.push(...renderFinding(f));
  }
  lines.push(...notJudgedLines(d, context.rerunWithLogin));
  lines.push("", verdictLine(d));
  return scrub(lines.join("\n") + "\n", secrets);
}

export function renderLiveJson(
  req: CorsRequest,
  d: Diagnosis,
  exchanges: Exchange[],
  secrets: string[],
  context: LiveContext = {},
): string {
  const json = {
    mode: "live",
    request: {
      url: redactUrl(req.url),
      origin: req.origin,
      method: req.method,
      headers: req.headers.map((h) => h.name.toLowerCase()),
      credentials: req.credentials,
      login: {
        accessToken: context.login?.accessToken !== undefined,
        cookies: (context.login?.cookies ?? []).map((c) => c.slice(0, Math.max(0, c.indexOf("=")))),
      },
    },
    verdict: d.verdict,
    ...(d.notJudged !== undefined
      ? { notJudged: { ...d.notJudged, rerun: context.rerunWithLogin } }
      : {}),
    preflightNeeded: d.preflightNeeded,
    preflightReasons: d.preflightReasons,
    exchanges: exchanges.map((e) => ({
      phase: e.phase,
      method: e.method,
      url: redactUrl(e.url),
      requestHeaders: redactHeaders(e.requestHeaders),
      status: e.response.status,
      responseHeaders: redactHeaders(e.response.headers),
      ...(e.response.worker !== undefined ? { worker: e.response.worker } : {}),
    })),
    findings: d.findings,
  };
  return scrub(JSON.stringify(json, null, 2) + "\n", secrets);
}

function credentialsLines(item: TriageItem): string[] {
  const e = item.credentialsEvidence;
  if (e.mode === "unknown") {
    return [`  credentials: unknown: ${e.reason} Run both:`];
  }
  return [`  credentials: ${e.mode === "include" ? "included" : "omitted"} (${e.reason})`];
}

function harVerdict(t: Triage): string {
  if (t.items.length === 0) return "Verdict: ✔ no failing cross-origin request in this capture.";
  const onRoute = t.items.filter((i) => i.sameOrigin === true).length;
  const refused = t.items.length - onRoute;
  const parts = [
    ...(refused > 0 ? [`${refused} cross-origin request(s) a browser refused`] : []),
    ...(onRoute > 0 ? [`${onRoute} request(s) on the stack's route that failed`] : []),
  ];
  return `Verdict: ✘ ${parts.join(", and ")}.`;
}

export function renderHarText(file: string, t: Triage, secrets: string[]): string {
  const lines = [
    `CORS doctor: ${file}: ${t.entries} entries, ${t.crossOrigin} cross-origin, ${t.items.length} failing`,
  ];
  for (const item of t.items) {
    const pre = item.preflightEntry !== undefined ? `, preflight #${item.preflightEntry}` : "";
    lines.push(
      "",
      `#${item.entry} ${item.method} ${item.url} from ${item.origin} → ${item.status}${pre}` +
        (item.credentials ? " (with credentials)" : ""),
    );
    for (const f of item.diagnosis.findings) {
      if (f.severity === "fail" || f.severity === "warn") lines.push(...renderFinding(f));
    }
    lines.push(...credentialsLines(item));
    const width = Math.max(...item.reruns.map((r) => r.label.length));
    for (const r of item.reruns) {
      const label = r.label === "" ? "rerun:" : `rerun ${r.label}:`.padEnd(width + 7);
      lines.push(`  ${label} ${r.command}`);
    }
  }
  if (t.workerAnswers.length > 0) {
    lines.push("", `The stack's Worker answered ${t.workerAnswers.length} request(s) itself:`);
    for (const a of t.workerAnswers) {
      lines.push(`  #${a.entry} ${a.method} ${a.url} → ${a.status}: ${workerAnswerText(a)}`);
    }
  }
  lines.push("", harVerdict(t));
  return scrub(lines.join("\n") + "\n", secrets);
}

export function renderHarJson(file: string, t: Triage, secrets: string[]): string {
  const json = {
    mode: "har",
    file,
    verdict: t.items.length === 0 ? "allowed" : "blocked",
    ...t,
  };
  return scrub(JSON.stringify(json, null, 2) + "\n", secrets);
}
