/**
 * The requests of a capture that went to the page's own origin: no CORS
 * check applies, so the triage keeps only the ones that failed on the
 * stack's route for a reason of their own (the person's session ended, the
 * API's Access refused the Worker's service token).
 */
import { doctorCommand, routePrefixArgs } from "./command";
import type { CorsRequest } from "./cors-check";
import { diagnose } from "./diagnose";
import { pageSetHeaders, responseView, type HarEntry } from "./har-file";
import type { TriageItem } from "./har";
import { redactUrl } from "./redact";

/** The evidence a same-origin request gives of its credentials: fetch's default sends them. */
const SAME_ORIGIN_CREDENTIALS = {
  mode: "include",
  reason:
    "a request to the page's own origin carries its cookies unless the page sets `credentials: 'omit'`",
} as const;

export function routeItem(
  entry: HarEntry,
  index: number,
  origin: string,
  routePrefix: string | undefined,
): TriageItem | undefined {
  const actual = responseView(entry);
  if (actual === undefined) return undefined;
  const request: CorsRequest = {
    url: entry.request.url,
    origin,
    method: entry.request.method,
    headers: pageSetHeaders(entry.request.headers),
    credentials: true,
  };
  // The browser sent whatever login it held; what it got is the person's answer.
  const diagnosis = diagnose({ request, actual, routePrefix, loginGiven: true });
  if (diagnosis.verdict === "allowed") return undefined;
  const command = doctorCommand(request, routePrefixArgs(routePrefix));
  return {
    entry: index,
    method: request.method,
    url: redactUrl(request.url),
    origin,
    status: entry.response.status,
    credentials: true,
    credentialsEvidence: SAME_ORIGIN_CREDENTIALS,
    diagnosis,
    rerun: command,
    reruns: [{ label: "", command }],
    sameOrigin: true,
  };
}
