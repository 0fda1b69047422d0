/**
 * HAR triage: finds the cross-origin requests in a browser capture that a
 * page would have seen fail, and explains each with the live check's rules;
 * and the requests on the stack's own route that failed (har-route.ts).
 */
import { accessLoginLocation, isAccessLoginUrl } from "./access";
import { doctorCommand, routePrefixArgs } from "./command";
import { getHeader, headerList, type CorsRequest, type ResponseView } from "./cors-check";
import { diagnose, type Diagnosis, type Finding } from "./diagnose";
import {
  failedInBrowser,
  isCorsMode,
  isPreflight,
  pageOrigin,
  pageSetHeaders,
  responseView,
  urlOrigin,
  type Har,
  type HarEntry,
} from "./har-file";
import { routeItem } from "./har-route";
import { redactUrl } from "./redact";
import { workerAnswersIn, type WorkerAnswerItem } from "./worker-answer";

export {
  HarError,
  harSecrets,
  isCorsMode,
  isPreflight,
  pageOrigin,
  parseHar,
  type Har,
  type HarEntry,
  type HarNameValue,
} from "./har-file";

/**
 * What a capture shows about the request's credentials mode. A HAR file does
 * not record `credentials: 'include'`, and Chrome's and Playwright's exports
 * often leave cookies out, so the mode is inferred from evidence or left unknown.
 */
export interface CredentialsEvidence {
  mode: "include" | "omit" | "unknown";
  /** The evidence, or why there is none. */
  reason: string;
}

export interface Rerun {
  /** `with credentials`, `without credentials`, or `` when the mode is known. */
  label: string;
  command: string;
}

export interface TriageItem {
  /** Index of the request in log.entries (of the preflight when no actual request was recorded). */
  entry: number;
  preflightEntry?: number;
  method: string;
  /** Redacted. */
  url: string;
  origin: string;
  status: number;
  /** The mode the diagnosis assumes: the inferred one, or `include` when unknown. */
  credentials: boolean;
  credentialsEvidence: CredentialsEvidence;
  diagnosis: Diagnosis;
  /** The same exchange as a live check, to confirm a fix: `reruns[0]`. */
  rerun: string;
  /** One command when the capture shows the credentials mode, both when it cannot tell. */
  reruns: Rerun[];
  /** A request to the page's own origin, on the stack's route: no CORS check, a failure of its own. */
  sameOrigin?: true;
}

export interface Triage {
  entries: number;
  crossOrigin: number;
  items: TriageItem[];
  /** Every answer of the stack's Worker the capture holds a body of. */
  workerAnswers: WorkerAnswerItem[];
}

/**
 * `routePrefix` is the stack's Worker route prefix for the API the capture
 * calls (see Observation), for the fixes and the reruns.
 */
export function triageHar(har: Har, options: { routePrefix?: string } = {}): Triage {
  const { routePrefix } = options;
  const entries = har.log.entries;
  const preflights = new Map<number, HarEntry>();
  entries.forEach((e, i) => {
    if (isPreflight(e)) preflights.set(i, e);
  });
  const usedPreflights = new Set<number>();
  const items: TriageItem[] = [];
  let crossOrigin = 0;

  entries.forEach((entry, i) => {
    if (preflights.has(i)) return;
    // The login page a redirect led to: the redirect itself is the finding.
    if (isAccessLoginUrl(entry.request.url) || !isCorsMode(entry)) return;
    const origin = pageOrigin(entry, har);
    const target = urlOrigin(entry.request.url);
    if (origin === null || target === null) return;
    if (origin === target) {
      const failed = routeItem(entry, i, origin, routePrefix);
      if (failed !== undefined) items.push(failed);
      return;
    }
    crossOrigin++;

    const preflightIndex = findPreflight(entries, preflights, usedPreflights, i);
    if (preflightIndex !== undefined) usedPreflights.add(preflightIndex);
    const preflightEntry = preflightIndex !== undefined ? entries[preflightIndex] : undefined;

    const headers =
      preflightEntry !== undefined
        ? [
            ...(
              headerList(preflightEntry.request.headers, "access-control-request-headers") ?? []
            ).map((name) => ({ name })),
            ...pageSetHeaders(entry.request.headers).filter((h) => hasSafelistedName(h.name)),
          ]
        : pageSetHeaders(entry.request.headers);
    const request: CorsRequest = {
      url: entry.request.url,
      origin,
      method: entry.request.method,
      headers: dedupeHeaders(headers),
      credentials: false,
    };
    const observed = {
      preflight: preflightEntry !== undefined ? responseView(preflightEntry) : undefined,
      actual: responseView(entry),
      failed: failedInBrowser(entry),
      sentCookie:
        getHeader(entry.request.headers, "cookie") !== null ||
        (entry.request.cookies ?? []).length > 0,
    };
    const judged = judge(request, observed, preflightEntry !== undefined, routePrefix);
    const loginRedirect =
      observed.actual !== undefined && accessLoginLocation(observed.actual, request.url) !== null;
    if (judged.diagnosis.verdict !== "allowed" || loginRedirect) {
      items.push(item(i, entry.response.status, judged, preflightIndex));
    }
  });

  // A preflight whose actual request was never recorded: the browser stopped there.
  for (const [i, pre] of preflights) {
    if (usedPreflights.has(i)) continue;
    const origin = pageOrigin(pre, har);
    const target = urlOrigin(pre.request.url);
    if (origin === null || target === null || origin === target) continue;
    crossOrigin++;
    const request: CorsRequest = {
      url: pre.request.url,
      origin,
      method: getHeader(pre.request.headers, "access-control-request-method") ?? "GET",
      headers: (headerList(pre.request.headers, "access-control-request-headers") ?? []).map(
        (name) => ({ name }),
      ),
      credentials: false,
    };
    const observed = {
      preflight: responseView(pre),
      actual: undefined,
      // No actual request followed: the browser stopped at this preflight.
      failed: failedInBrowser(pre) ?? "no actual request followed the preflight",
      // A browser never sends cookies on a preflight, so their absence says nothing.
      sentCookie: false,
    };
    const judged = judge(request, observed, false, routePrefix);
    if (judged.diagnosis.verdict !== "allowed") {
      items.push(item(i, pre.response.status, judged, i));
    }
  }
  items.sort((a, b) => a.entry - b.entry);
  return { entries: entries.length, crossOrigin, items, workerAnswers: workerAnswersIn(entries) };
}

interface Observed {
  preflight?: ResponseView;
  actual?: ResponseView;
  /** The browser's own error for the request, or null when it recorded none. */
  failed: string | null;
  sentCookie: boolean;
}

interface Judged {
  request: CorsRequest;
  evidence: CredentialsEvidence;
  diagnosis: Diagnosis;
  reruns: Rerun[];
}

/** The first failing finding's summary, for an evidence sentence. */
function firstFailure(d: Diagnosis): string {
  return d.findings.find((f) => !f.ok)?.summary ?? "";
}

/**
 * The request's credentials mode from what the capture shows: a Cookie
 * header; or elimination, when the browser's outcome (refused or accepted)
 * fits only one mode given the answers it recorded. Nothing else in a HAR
 * (Sec-Fetch-* headers, the initiator) records the mode.
 */
export function credentialsEvidence(request: CorsRequest, observed: Observed): CredentialsEvidence {
  if (observed.sentCookie) {
    return { mode: "include", reason: "the request carried a Cookie header" };
  }
  const as = (credentials: boolean) =>
    diagnose({
      request: { ...request, credentials },
      preflight: observed.preflight,
      actual: observed.actual,
    });
  const withCredentials = as(true);
  const without = as(false);
  const onlyCredentialedFails =
    without.verdict === "allowed" && withCredentials.verdict === "blocked";
  if (onlyCredentialedFails && observed.failed !== null) {
    return {
      mode: "include",
      reason: `the browser refused it, and the answers it recorded fail only a request with credentials (${firstFailure(withCredentials)})`,
    };
  }
  if (onlyCredentialedFails && observed.actual !== undefined) {
    return {
      mode: "omit",
      reason: `the browser accepted an answer that a request with credentials fails (${firstFailure(withCredentials)})`,
    };
  }
  const recorded = [observed.preflight, observed.actual].filter(
    (r): r is ResponseView => r !== undefined,
  );
  const allowsCredentials = recorded.some(
    (r) => getHeader(r.headers, "access-control-allow-credentials") === "true",
  );
  return {
    mode: "unknown",
    reason:
      `the capture records no Cookie header${observed.actual === undefined ? " and no response" : ""}, ` +
      "and Chrome's sanitized export and Playwright's failed requests carry none even when the browser sent one, " +
      "so it cannot tell whether the page used `credentials: 'include'`" +
      (allowsCredentials
        ? "; the API answers with Access-Control-Allow-Credentials: true, so the page probably does."
        : "."),
  };
}

function judge(
  base: CorsRequest,
  observed: Observed,
  hadPreflight: boolean,
  routePrefix: string | undefined,
): Judged {
  const evidence = credentialsEvidence(base, observed);
  const withCredentials = { ...base, credentials: true };
  const without = { ...base, credentials: false };
  // With the mode unknown, only what fails in both modes is certain; a
  // request without credentials fails exactly those checks.
  const request = evidence.mode === "include" ? withCredentials : without;
  const { preflight, actual } = observed;
  const diagnosis = diagnose({ request, preflight, actual, routePrefix });
  const rerun = (req: CorsRequest) => rerunCommand(req, routePrefix);
  const reruns: Rerun[] =
    evidence.mode === "unknown"
      ? [
          { label: "with credentials", command: rerun(withCredentials) },
          { label: "without credentials", command: rerun(without) },
        ]
      : [{ label: "", command: rerun(request) }];
  if (evidence.mode === "unknown") {
    const more = diagnose({
      request: withCredentials,
      preflight,
      actual,
      routePrefix,
    }).findings.filter((f) => !f.ok && !diagnosis.findings.some((g) => !g.ok && g.step === f.step));
    if (more.length > 0) diagnosis.findings.push(credentialsModeFinding(more, evidence));
  }
  if (observed.failed !== null && diagnosis.verdict === "allowed") {
    diagnosis.findings.push(noResponseFinding(observed.failed, reruns, hadPreflight));
    diagnosis.verdict = "blocked";
  }
  return { request, evidence, diagnosis, reruns };
}

/** What else fails if the page sends credentials, when the capture cannot tell whether it does. */
function credentialsModeFinding(more: Finding[], evidence: CredentialsEvidence): Finding {
  return {
    phase: more[0]!.phase,
    step: "credentials-mode",
    ok: true,
    severity: "warn",
    summary: `if the page sends credentials, also: ${more.map((f) => f.summary).join("; ")}`,
    cause: `The capture cannot tell the credentials mode: ${evidence.reason}`,
    fix: "Run the rerun with --credentials below to see those steps.",
    fixKeys: ["request"],
  };
}

/** The nearest earlier unpaired preflight for the same URL and method. */
function findPreflight(
  entries: HarEntry[],
  preflights: Map<number, HarEntry>,
  used: Set<number>,
  actualIndex: number,
): number | undefined {
  const actual = entries[actualIndex];
  if (actual === undefined) return undefined;
  for (let j = actualIndex - 1; j >= 0; j--) {
    const pre = preflights.get(j);
    if (pre === undefined || used.has(j)) continue;
    if (
      pre.request.url === actual.request.url &&
      getHeader(pre.request.headers, "access-control-request-method") === actual.request.method
    ) {
      return j;
    }
  }
  return undefined;
}

/**
 * With a preflight recorded, its request-headers list is the authority on
 * non-safelisted names; the actual request only adds values for the headers
 * whose safelisting depends on them.
 */
function hasSafelistedName(name: string): boolean {
  const lower = name.toLowerCase();
  return ["accept", "accept-language", "content-language", "content-type", "range"].includes(lower);
}

function dedupeHeaders(headers: CorsRequest["headers"]): CorsRequest["headers"] {
  const seen = new Map<string, CorsRequest["headers"][number]>();
  for (const h of headers) {
    const key = h.name.toLowerCase();
    const prior = seen.get(key);
    if (prior === undefined || (prior.value === undefined && h.value !== undefined)) {
      seen.set(key, h.value === undefined ? { name: key } : h);
    }
  }
  return [...seen.values()];
}

function noResponseFinding(failed: string, reruns: Rerun[], afterPreflight: boolean): Finding {
  const after = afterPreflight ? " after a preflight that passed every check" : "";
  const commands =
    reruns.length === 1
      ? reruns[0]!.command
      : `${reruns[0]!.command} (the capture cannot tell whether the page sent credentials: the reruns below give both)`;
  return {
    phase: "actual",
    step: "no-response",
    ok: false,
    severity: "fail",
    summary: `the browser recorded no usable response (${failed})`,
    cause: `The request failed in the browser (${failed})${after}. A HAR file does not record why; the browser's console log names the CORS rule, or the network failed.`,
    fix: `Re-run the exchange live to see each step: ${commands}`,
    fixKeys: ["request"],
  };
}

/** The same exchange as a live check. */
export function rerunCommand(req: CorsRequest, routePrefix?: string): string {
  return doctorCommand(req, routePrefixArgs(routePrefix));
}

function item(
  entry: number,
  status: number,
  judged: Judged,
  preflightEntry: number | undefined,
): TriageItem {
  const { request, diagnosis, evidence, reruns } = judged;
  return {
    entry,
    ...(preflightEntry !== undefined && preflightEntry !== entry ? { preflightEntry } : {}),
    method: request.method,
    url: redactUrl(request.url),
    origin: request.origin,
    status,
    credentials: request.credentials,
    credentialsEvidence: evidence,
    diagnosis,
    rerun: reruns[0]!.command,
    reruns,
  };
}
