// Cloudflare's ray ids are hex with a colo suffix. Anything else in the
// header came from the client, so it is not echoed into responses or logs.
const RAY_ID = /^[A-Za-z0-9-]{1,64}$/;

/** The id a response and its log lines share: the ray id when it looks like one. */
export function requestIdFrom(ray: string | null | undefined): string {
  return typeof ray === "string" && RAY_ID.test(ray) ? ray : crypto.randomUUID();
}

/** {@link requestIdFrom} the request's own `cf-ray`. */
export function requestIdOf(request: Request): string {
  return requestIdFrom(request.headers.get("cf-ray"));
}
