/**
 * Rendering: a terminal report with one ✔/✘ line per step, or JSON. Every
 * output passes through scrub() so no secret value can be printed.
 */
import type { CorsRequest } from "./cors-check";
import type { Diagnosis, Finding } from "./diagnose";
import type { Triage } from "./har";
import type { Exchange } from "./live";
import { redactHeaders, redactUrl, scrub } from "./redact";

const MARK = { pass: "✔", fail: "✘", warn: "⚠" } as const;

function renderFinding(f: Finding): string[] {
  const lines = [`  ${MARK[f.severity]} ${f.step}: ${f.summary}`];
  if (f.cause !== undefined) lines.push(`      cause: ${f.cause}`);
  if (f.fix !== undefined) lines.push(`      fix:   ${f.fix}`);
  return lines;
}

function verdictLine(d: Diagnosis): string {
  return d.verdict === "allowed"
    ? "Verdict: ✔ allowed: a browser would let the page read this response."
    : "Verdict: ✘ blocked: a browser would refuse this request (the page sees a CORS error).";
}

function describeRequest(req: CorsRequest): string {
  const headers = req.headers.map((h) => h.name.toLowerCase());
  return (
    `${req.method} ${redactUrl(req.url)} from ${req.origin}` +
    (headers.length > 0 ? `, headers: ${headers.join(", ")}` : "") +
    (req.credentials ? ", with credentials" : ", without credentials")
  );
}

export function renderLiveText(
  req: CorsRequest,
  d: Diagnosis,
  exchanges: Exchange[],
  secrets: string[],
  preflightOnly = false,
): string {
  const lines = [`CORS doctor: ${describeRequest(req)}`];
  lines.push(
    d.preflightNeeded
      ? `A browser sends a preflight first: ${d.preflightReasons.join("; ")}.`
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
          preflightOnly
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
    if (sent.length > 0) lines.push(`  sent ${sent.join("; ")}`);
    for (const f of findings) lines.push(...renderFinding(f));
  }
  lines.push("", verdictLine(d));
  return scrub(lines.join("\n") + "\n", secrets);
}

export function renderLiveJson(
  req: CorsRequest,
  d: Diagnosis,
  exchanges: Exchange[],
  secrets: string[],
): string {
  const json = {
    mode: "live",
    request: {
      url: redactUrl(req.url),
      origin: req.origin,
      method: req.method,
      headers: req.headers.map((h) => h.name.toLowerCase()),
      credentials: req.credentials,
    },
    verdict: d.verdict,
    preflightNeeded: d.preflightNeeded,
    preflightReasons: d.preflightReasons,
    exchanges: exchanges.map((e) => ({
      phase: e.phase,
      method: e.method,
      url: redactUrl(e.url),
      requestHeaders: redactHeaders(e.requestHeaders),
      status: e.response.status,
      responseHeaders: redactHeaders(e.response.headers),
    })),
    findings: d.findings,
  };
  return scrub(JSON.stringify(json, null, 2) + "\n", secrets);
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
      if (f.severity !== "pass") lines.push(...renderFinding(f));
    }
    lines.push(`  rerun: ${item.rerun}`);
  }
  lines.push(
    "",
    t.items.length === 0
      ? "Verdict: ✔ no failing cross-origin request in this capture."
      : `Verdict: ✘ ${t.items.length} cross-origin request(s) a browser refused.`,
  );
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
