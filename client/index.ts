/**
 * `access-bridge/client`: `fetch` for a front end whose API sits behind the
 * bridge's route, that survives the person's Access session ending.
 *
 * Access answers a request on the front end's own hostname before the Worker
 * runs. When the session has ended it redirects to the login page, which a
 * `fetch` follows across origins and fails with an opaque CORS error; with
 * `X-Requested-With: XMLHttpRequest` Access answers 401 instead (Cloudflare's
 * "Session management" documentation). That 401 never passed through the
 * Worker, and every error the Worker passes or makes carries
 * `X-Access-Bridge-Reason`, so a 401 without it is Access saying the session
 * ended, and a 401 with it is the API's own or the Worker's.
 *
 * ```ts
 * import { bridgeFetch } from "access-bridge/client";
 * const res = await bridgeFetch("/api/orders", { onSessionExpired: () => showLoginBanner() });
 * ```
 */

/** The header the Worker sets on every error it answers or passes on. */
export const REASON_HEADER = "x-access-bridge-reason";

/** What happens when Access says the session ended. */
export interface SessionExpiredOptions {
  /**
   * Called instead of sending the page to log in again. Resolve to `true` once
   * the person has logged in again (in a popup, say) for a GET or HEAD to be
   * sent once more; anything else ends the call with a SessionExpiredError.
   */
  onSessionExpired?: (request: Request) => unknown;
}

export type BridgeInit = RequestInit & SessionExpiredOptions;

/** The call ended because the person's Access session did; the page is being sent to log in again, or the app was told. */
export class SessionExpiredError extends Error {
  override name = "SessionExpiredError";
  constructor(readonly request: Request) {
    super(`the Access session ended before ${request.method} ${request.url}`);
  }
}

/** Methods that change nothing, and so may be sent again once the person has logged in again. */
const SAFE = ["GET", "HEAD"];

/** Whether a response is Access's answer that the session ended, not the API's or the Worker's. */
export function isSessionExpired(response: Response): boolean {
  return response.status === 401 && !response.headers.has(REASON_HEADER);
}

/**
 * A top-level load of the same page: Access sends the person to its login and
 * back here afterwards, as for any page behind it.
 */
function logInAgain(): void {
  // Through globalThis, so the module also type-checks where there is no DOM (its tests in Node).
  const place = (
    globalThis as { location?: { href: string; reload?(): void; assign?(url: string): void } }
  ).location;
  if (place === undefined) return;
  // A reload, not `assign(href)`: a URL with a fragment would only scroll.
  if (typeof place.reload === "function") place.reload();
  else if (typeof place.assign === "function") place.assign(place.href);
  else place.href = String(place.href);
}

/** `fetch`, with the header that makes Access answer 401, the front end's cookie, and recovery when the session ended. */
export async function bridgeFetch(
  input: Request | string | URL,
  init: BridgeInit = {},
): Promise<Response> {
  const { onSessionExpired, ...rest } = init;
  const request = new Request(input, { credentials: "same-origin", ...rest });
  request.headers.set("x-requested-with", "XMLHttpRequest");
  // Kept before sending, so the same request can be sent again after a new login.
  const again = SAFE.includes(request.method) ? request.clone() : undefined;
  const response = await fetch(request);
  if (!isSessionExpired(response)) return response;
  if (onSessionExpired === undefined) {
    logInAgain();
    throw new SessionExpiredError(request);
  }
  const restored = (await onSessionExpired(request)) === true;
  if (restored && again !== undefined) return fetch(again);
  throw new SessionExpiredError(request);
}

/** A `bridgeFetch` with the app's own handling, for every call. */
export function createBridgeFetch(
  options: SessionExpiredOptions,
): (input: Request | string | URL, init?: BridgeInit) => Promise<Response> {
  return (input, init = {}) => bridgeFetch(input, { ...options, ...init });
}
