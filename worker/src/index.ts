import { isCrossSiteWrite } from "./csrf";
import { readConfig, type Config, type Env } from "./env";
import { crossSiteWrite, HttpError, jsonError, missingAssertion, notFound } from "./errors";
import { cleanResponseHeaders, upstreamRequestHeaders } from "./headers";
import { hasEncodedTraversal, isInsidePrefix, upstreamPath } from "./route";
import { callUpstream, upstreamUrl } from "./upstream";
import { verifyAssertion } from "./verify";

export type { Env } from "./env";

function requestIdOf(request: Request): string {
  return request.headers.get("cf-ray") ?? crypto.randomUUID();
}

async function proxy(request: Request, config: Config): Promise<Response> {
  const url = new URL(request.url);
  if (!isInsidePrefix(url.pathname, config.routePrefix) || hasEncodedTraversal(url.pathname)) {
    throw notFound();
  }

  const assertion = request.headers.get("cf-access-jwt-assertion");
  if (!assertion) throw missingAssertion();
  const { email } = await verifyAssertion(assertion, config.teamDomain, config.aud);

  if (isCrossSiteWrite(request, url.origin)) throw crossSiteWrite();

  const target = upstreamUrl(
    config.apiHostname,
    upstreamPath(url.pathname, config.routePrefix, config.stripRoutePrefix),
    url.search,
  );
  const token = { clientId: config.clientId, clientSecret: config.clientSecret };
  const upstream = await callUpstream(
    target,
    request,
    upstreamRequestHeaders(request.headers, token, email),
    config.upstreamTimeoutMs,
  );

  const response = new Response(upstream.body, upstream);
  cleanResponseHeaders(response.headers, {
    apiHostname: config.apiHostname,
    frontendBase: url.origin + (config.stripRoutePrefix ? config.routePrefix : ""),
    token,
  });
  return response;
}

async function fetch(request: Request, env: Env): Promise<Response> {
  const requestId = requestIdOf(request);
  try {
    return await proxy(request, readConfig(env));
  } catch (err) {
    if (err instanceof HttpError) {
      if (err.detail !== undefined) {
        console.error(`[${requestId}] ${err.status} ${err.publicMessage}: ${err.detail}`);
      }
      return err.toResponse(requestId);
    }
    // Unknown errors (including a broken deployment) may carry internals: log
    // them under the request id and tell the caller nothing.
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : "unknown error";
    console.error(`[${requestId}] 500 internal error: ${detail}`);
    return jsonError(500, "internal error", requestId);
  }
}

export default { fetch } satisfies ExportedHandler<Env>;
