import { isWellFormedAssertion, MAX_ASSERTION_BYTES } from "./assertion";
import { isCrossSite } from "./csrf";
import { ConfigError, readConfig, type Config, type Env } from "./env";
import { passedBody, type PassedBody } from "./error-body";
import { errorSummary, HttpError, RESOURCE_POLICY } from "./errors";
import {
  tokenFinder,
  type TokenFinder,
  readRequestHeaders,
  responseChanges,
  rewriteRequestHeaders,
  type ServiceToken,
} from "./headers";
import type { Identity } from "./identity";
import { IdentitySigner } from "./identity-signer";
import { isForwardedMethod } from "./methods";
import { accessHostOf } from "./access-refusal";
import { newOutcome, report, type Outcome } from "./outcome";
import { REASON_HEADER, REFUSALS } from "./reasons";
import { URL_REWRITES, type FrontEnd } from "./redirects";
import { requestIdFrom, requestIdOf } from "./request-id";
import { hasTraversal, isInsidePrefix, upstreamPath } from "./route";
import { callUpstream, upstreamUrl } from "./upstream";
import { cachedIdentity, verifyAssertion } from "./verify";
import { callUpgrade, isOwnOrigin, isWebSocketUpgrade, socketToBrowser } from "./websocket";

export type { Env } from "./env";

interface Deployment {
  config: Config;
  token: ServiceToken;
  signer: IdentitySigner;
  /** `https://<API_HOSTNAME>`, the audience of every identity statement. */
  apiOrigin: string;
}

// Bindings are fixed for the life of an isolate, so they are validated once per
// `env` object rather than on every request.
let deployed: { env: Env; deployment: Deployment } | undefined;

function deploymentOf(env: Env): Deployment {
  if (deployed?.env !== env) {
    const config = readConfig(env);
    const token = { clientId: config.clientId, clientSecret: config.clientSecret };
    const signer = new IdentitySigner(config.identitySigningKey);
    const apiOrigin = `https://${config.apiHostname}`;
    deployed = { env, deployment: { config, token, signer, apiOrigin } };
  }
  return deployed.deployment;
}

/**
 * The order is the contract's: where (404), who (401, 403), what (405, then
 * the cross-site rules), and only then the API. Each step is cheap before the
 * next; only a verified caller learns which methods the route serves. What
 * it learns on the way goes into `outcome`, for the request's log line.
 */
async function proxy(
  request: Request,
  { config, token, signer, apiOrigin }: Deployment,
  ctx: ExecutionContext,
  outcome: Outcome,
): Promise<Response> {
  outcome.api = config.apiHostname;
  const url = new URL(request.url);
  const pathname = url.pathname;
  if (!isInsidePrefix(pathname, config.routePrefix)) {
    throw new HttpError("not_found", "outside the route prefix");
  }
  if (hasTraversal(pathname)) {
    throw new HttpError("not_found", "a path a server could turn into a step out of the prefix");
  }

  // One pass over the headers gives the assertion, the ray and what the later
  // rules need: each `headers.get` would cost about as much as the whole pass.
  const facts = readRequestHeaders(request.headers);
  outcome.requestId = requestIdFrom(facts.ray);
  const method = outcome.method;
  const upgrade = facts.upgrade !== undefined && isWebSocketUpgrade(method, facts.upgrade);
  const assertion = facts.assertion;
  if (!assertion) {
    // A WebSocket cannot act on a 401 (there is no login to answer it with): it is refused.
    throw new HttpError(
      "missing_assertion",
      "no Cf-Access-Jwt-Assertion",
      upgrade ? 403 : undefined,
    );
  }
  // The size bound comes before the cache, so no assertion costs more than
  // 8 KB of hashing. Verified assertions are cached by their exact bytes, and
  // only well-formed ones are ever verified, so a cache hit needs no second
  // look at its spelling: that check runs on a miss.
  if (assertion.length > MAX_ASSERTION_BYTES) throw malformedAssertion();
  const identity =
    cachedIdentity(assertion, config.teamDomain, config.aud) ??
    (await verifyNewAssertion(assertion, config, ctx));
  if ("email" in identity) {
    outcome.identity = "person";
    outcome.sub = identity.sub;
  } else {
    outcome.identity = "service";
  }

  if (!isForwardedMethod(method)) {
    throw new HttpError("method_not_allowed", "not one of the forwarded methods");
  }
  const origin = url.origin;
  // A WebSocket is held to its Origin in place of the cross-site rules for reads.
  if (upgrade) {
    if (!isOwnOrigin(facts.origin, origin)) {
      throw new HttpError("cross_site", "a WebSocket without the front end's own Origin");
    }
  } else if (isCrossSite(method, facts, origin)) {
    throw new HttpError("cross_site", "another site's request, by Sec-Fetch-Site or Origin");
  }

  const target = upstreamUrl(
    config.apiHostname,
    upstreamPath(pathname, config.routePrefix, config.stripRoutePrefix),
    url.search,
  );
  // A statement is signed about once a minute per caller and reused between.
  const nowMs = Date.now();
  const nowS = nowMs / 1000;
  const statement =
    signer.cached(identity, origin, nowS) ?? (await signer.sign(identity, origin, apiOrigin, nowS));
  const carriesToken = tokenFinder(token);
  if (upgrade) {
    const dropped = facts.dropped.filter((name) => name !== "upgrade");
    const upstream = await callUpgrade(
      target,
      request,
      (forwarded) =>
        rewriteRequestHeaders(forwarded, dropped, token, identity, statement, facts.clientIp),
      config.upstreamTimeoutMs,
      outcome,
      nowMs,
    );
    const status = upstream.status;
    outcome.status = status;
    const socket = upstream.webSocket;
    if (status === 101 && socket) {
      return socketToBrowser(upstream, socket, carriesToken, signatureOf(statement));
    }
    const body = await passedBody(upstream, carriesToken);
    return backToBrowser(upstream, status, body, config, carriesToken, url, statement);
  }
  const [upstream, body] = await callUpstream(
    target,
    request,
    (forwarded) =>
      rewriteRequestHeaders(forwarded, facts.dropped, token, identity, statement, facts.clientIp),
    config.upstreamTimeoutMs,
    (response) => passedBody(response, carriesToken),
    outcome,
    nowMs,
  );
  // The browser gets the API's own status, already read.
  const status = outcome.upstreamStatus!;
  const response = backToBrowser(upstream, status, body, config, carriesToken, url, statement);
  outcome.status = status;
  return response;
}

/** An assertion this isolate has not verified: its spelling first, then its signature. */
function verifyNewAssertion(
  assertion: string,
  config: Config,
  ctx: ExecutionContext,
): Promise<Identity> {
  if (!isWellFormedAssertion(assertion)) throw malformedAssertion();
  return verifyAssertion(assertion, config.teamDomain, config.aud, (p) => ctx.waitUntil(p));
}

/** The last segment of a statement, which no answer may carry back. */
const signatureOf = (statement: string): string => statement.slice(statement.lastIndexOf(".") + 1);

const malformedAssertion = (): HttpError =>
  new HttpError("malformed_assertion", "not three canonical base64url segments of at most 8 KB");

/**
 * The API's response as the browser may see it, with `body` from
 * {@link passedBody}: the API's own stream, which the runtime streams
 * natively (scanning every body for the token in JavaScript cost about half
 * the throughput), or an error body read and scanned. Headers, where a proxy
 * or framework would echo request headers, are scanned on every response.
 */
function backToBrowser(
  upstream: Response,
  status: number,
  body: PassedBody,
  config: Config,
  carriesToken: TokenFinder,
  frontend: URL,
  statement: string,
): Response {
  const changes = responseChanges(upstream.headers, carriesToken, signatureOf(statement));
  // A reason phrase with the token in it goes empty, rather than edited or
  // left to the runtime's default.
  const init = carriesToken.test(upstream.statusText)
    ? { status, statusText: "", headers: upstream.headers }
    : upstream;
  const response = new Response(body, init);
  const headers = response.headers;
  // The length of what was read is the runtime's to set: a compressed
  // body was read decoded, and goes out coded again.
  if (body !== upstream.body) headers.delete("content-length");
  for (const name of changes.dropped) headers.delete(name);
  if (changes.urls.length > 0) {
    const frontEnd: FrontEnd = {
      apiHostname: config.apiHostname,
      origin: frontend.origin,
      pathPrefix: config.stripRoutePrefix ? config.routePrefix : "",
    };
    for (const [name, value] of changes.urls) {
      const accessHost = accessHostOf(value, config.teamDomain, config.apiHostname);
      if (accessHost === undefined) {
        headers.set(name, URL_REWRITES.get(name)!(value, frontEnd));
      } else if (name === "location" && status >= 300 && status < 400) {
        // The API's Access sending the Worker to its login: the token was refused.
        throw new HttpError("service_token_refused", `redirected to ${accessHost}`);
      } else {
        // No other answer hands the browser a URL into Access.
        headers.delete(name);
      }
    }
  }
  if (changes.cacheControl !== undefined) headers.set("cache-control", changes.cacheControl);
  headers.set(...RESOURCE_POLICY);
  // The API's own errors are marked as having passed the Worker, as its own are.
  if (status >= 400) headers.set(REASON_HEADER, "forwarded");
  return response;
}

/**
 * The caller's answer for what stopped the request: its own reason for a
 * refusal, `misconfigured` for bindings that do not hold up, and `internal`
 * for anything else, which may carry internals and so shows the caller nothing.
 */
function refused(err: unknown, request: Request, outcome: Outcome): Response {
  const error =
    err instanceof HttpError
      ? err
      : new HttpError(err instanceof ConfigError ? "misconfigured" : "internal", errorSummary(err));
  // Only failures are answered under an id before the header pass reads one.
  const requestId = (outcome.requestId ??= requestIdOf(request));
  outcome.reason = error.reason;
  outcome.status = error.status;
  outcome.detail = error.detail;
  if ("fault" in REFUSALS[error.reason]) {
    console.error(`[${requestId}] ${error.status} ${error.publicMessage}: ${error.detail}`);
  }
  return error.toResponse(requestId);
}

async function fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const outcome = newOutcome(request.method);
  let response: Response;
  try {
    response = await proxy(request, deploymentOf(env), ctx, outcome);
  } catch (err) {
    outcome.api ??= apiHostnameOf(env);
    response = refused(err, request, outcome);
  }
  report(outcome, env.ANALYTICS);
  return response;
}

/** The API a deployment that failed its checks still names, for its log line. */
function apiHostnameOf(env: Env): string | undefined {
  const value = env.API_HOSTNAME;
  return typeof value === "string" && value.trim() !== "" ? value.trim().toLowerCase() : undefined;
}

export default { fetch } satisfies ExportedHandler<Env>;
