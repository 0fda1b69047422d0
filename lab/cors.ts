/**
 * How the emulated Access edge answers a CORS preflight from an app's
 * `corsHeaders`, and how the demo API answers one from its own policy.
 * Pure functions, so the rules can be tested without a browser.
 *
 * Cloudflare documents the settings, not an algorithm
 * (https://developers.cloudflare.com/cloudflare-one/access-controls/applications/http-apps/authorization-cookie/cors/):
 * "Configure Cloudflare to respond to the OPTIONS request ... The OPTIONS
 * request never reaches your origin", and its curl example shows a 200 with
 * `vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers`,
 * the caller's origin echoed in `access-control-allow-origin`, the requested
 * method in `access-control-allow-methods` and `access-control-allow-credentials: true`.
 * Where the page is silent (an origin, method or header that is not allowed),
 * the edge answers as a CORS-spec server does: it leaves out the header that
 * would grant it, and the browser refuses the request.
 */
import type { CorsSettings } from "./topology";

export interface PreflightRequest {
  origin: string | null;
  method: string | null;
  /** Lower-case names from Access-Control-Request-Headers. */
  headers: string[];
}

export interface PreflightAnswer {
  status: number;
  headers: Record<string, string>;
}

export const preflightVary =
  "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

export function readPreflight(headers: Headers): PreflightRequest {
  return {
    origin: headers.get("origin"),
    method: headers.get("access-control-request-method"),
    headers: (headers.get("access-control-request-headers") ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.length > 0),
  };
}

export function originAllowed(cors: CorsSettings, origin: string | null): boolean {
  if (!origin) return false;
  if (cors.allowAllOrigins) return true;
  return (cors.allowedOrigins ?? []).some(
    (o) => o.replace(/\/$/, "").toLowerCase() === origin.toLowerCase(),
  );
}

/** The answer Access gives a preflight from the app's CORS settings. */
export function answerPreflight(cors: CorsSettings, req: PreflightRequest): PreflightAnswer {
  const headers: Record<string, string> = { vary: preflightVary };
  if (!originAllowed(cors, req.origin)) return { status: 200, headers };

  headers["access-control-allow-origin"] =
    cors.allowAllOrigins && !cors.allowCredentials ? "*" : req.origin!;
  if (cors.allowCredentials) headers["access-control-allow-credentials"] = "true";

  const method = (req.method ?? "").toUpperCase();
  const methods = (cors.allowedMethods ?? []).map((m) => m.toUpperCase());
  if (method && (cors.allowAllMethods || methods.includes(method))) {
    headers["access-control-allow-methods"] = method;
  }

  const allowed = new Set((cors.allowedHeaders ?? []).map((h) => h.toLowerCase()));
  const granted = cors.allowAllHeaders ? req.headers : req.headers.filter((h) => allowed.has(h));
  if (granted.length > 0) headers["access-control-allow-headers"] = granted.join(", ");

  if (typeof cors.maxAge === "number") headers["access-control-max-age"] = String(cors.maxAge);
  return { status: 200, headers };
}

/**
 * CORS headers for an actual (non-preflight) response. The guide expects the
 * origin to send them ("configure these CORS settings to match the response
 * headers sent by your origin"), so the demo API adds them from its policy.
 */
export function responseCorsHeaders(
  cors: CorsSettings,
  origin: string | null,
): Record<string, string> {
  const headers: Record<string, string> = { vary: "Origin" };
  if (!originAllowed(cors, origin)) return headers;
  headers["access-control-allow-origin"] =
    cors.allowAllOrigins && !cors.allowCredentials ? "*" : origin!;
  if (cors.allowCredentials) headers["access-control-allow-credentials"] = "true";
  return headers;
}
