/**
 * The demo API origin behind each API's Access edge. It echoes what reached it
 * (method, path, headers after the edge and the Worker) and who the caller
 * was according to the edge's `Cf-Access-Jwt-Assertion`. It is the lab's
 * stand-in for the user's API, not part of the product.
 *
 * It sends CORS headers on its responses from `ctx.originCors(api)`, and when the
 * app bypasses OPTIONS to it, it answers preflights itself from that policy,
 * as the guide requires ("this option should only be used if you have CORS
 * enforcement established in your origin server").
 *
 * A WebSocket upgrade on any path opens an echo socket: each message comes
 * back as `echo: <message>`.
 */
import type { ScenarioContext } from "./context";
import type { LabApi } from "./topology";
import { escapeHtml, html, json } from "./context";
import { answerPreflight, originAllowed, readPreflight, responseCorsHeaders } from "./cors";
import { IDENTITY_HEADER, verifyIdentity } from "../identity/src";
import type { IdentityCheck } from "./page/case-result";
import { peekClaims } from "./tokens";
import { isWebSocketRequest } from "./websocket";
import { Response as RuntimeResponse, WebSocketPair } from "miniflare";

export type Caller =
  | { kind: "service-token"; clientId: string }
  | { kind: "person"; email: string }
  | { kind: "none" };

export interface Echo {
  servedBy: "demo-api";
  /** The API's host name, so a page calling several can tell them apart. */
  host: string;
  method: string;
  path: string;
  query: string;
  caller: Caller;
  identity: IdentityCheck;
  headers: Record<string, string>;
  body: string;
}

const unsafe = (method: string): boolean => !["GET", "HEAD", "OPTIONS"].includes(method);

/** The request's headers, with secrets replaced by a note and cookies reduced to their names. */
export function visibleHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name === "cf-access-client-secret") out[name] = "(present, redacted)";
    else if (name === "cf-access-jwt-assertion" || name === "cf-access-token")
      out[name] = `(JWT, ${value.length} chars)`;
    else if (name === "cookie") {
      out[name] = value
        .split(";")
        .map((c) => `${c.split("=")[0]!.trim()}=…`)
        .join("; ");
    } else out[name] = value;
  });
  return out;
}

export function callerOf(headers: Headers): Caller {
  const claims = peekClaims(headers.get("cf-access-jwt-assertion") ?? "");
  if (typeof claims?.["common_name"] === "string" && claims["common_name"]) {
    return { kind: "service-token", clientId: claims["common_name"] };
  }
  if (typeof claims?.["email"] === "string") return { kind: "person", email: claims["email"] };
  return { kind: "none" };
}

/** Verifies the Worker's statement with the API's own identityJwks, as the README tells API authors to. */
export async function identityOf(
  ctx: ScenarioContext,
  api: LabApi,
  headers: Headers,
): Promise<IdentityCheck> {
  if (!headers.has(IDENTITY_HEADER)) {
    return {
      verified: false,
      reason: `no ${IDENTITY_HEADER}: the request did not come through the Worker`,
    };
  }
  try {
    const who = await verifyIdentity(headers, api.identityJwks, {
      apiOrigin: `https://${api.app.hostname}`,
      issuer: `https://${ctx.topology.frontend.hostname}`,
    });
    return {
      verified: true,
      kind: who.kind,
      sub: who.sub,
      ...(who.email ? { email: who.email } : {}),
    };
  } catch (err) {
    return { verified: false, reason: (err as Error).message };
  }
}

function callerNote(caller: Caller): string {
  return caller.kind === "service-token"
    ? `service token ${caller.clientId}`
    : caller.kind === "person"
      ? caller.email
      : "anonymous";
}

function identityNote(identity: IdentityCheck): string {
  return identity.verified ? `identity verified: ${identity.sub}` : "identity not verified";
}

/**
 * A page on another origin than the front end's opening a WebSocket to the
 * route, as a hijacking page would: the browser sends the person's cookie
 * for the front end, and only the Worker's Origin check stands in the way.
 */
function foreignSocketProbe(target: string): string {
  return `<p><button id="foreign-socket">Open a WebSocket to ${escapeHtml(target)} from this origin</button>
<output id="foreign-socket-result"></output></p>
<script>
document.getElementById("foreign-socket").addEventListener("click", () => {
  const out = document.getElementById("foreign-socket-result");
  const socket = new WebSocket(${JSON.stringify(target)});
  socket.onopen = () => { out.dataset.outcome = "open"; out.textContent = "Opened: the route let another origin in."; socket.close(); };
  socket.onclose = (event) => {
    if (out.dataset.outcome) return;
    out.dataset.outcome = "refused";
    out.textContent = "Refused (the browser only reports a close, code " + event.code + "): the Worker answered 403 cross_site, since this page's Origin is not the front end's. The lab's page shows the Worker's log line.";
  };
});
</script>`;
}

/**
 * An echo socket, made as workerd makes one (a runtime WebSocket pair), so
 * that the Worker's fetch gets the API's 101 with its socket. The answer is
 * the runtime's response type, which carries the socket through miniflare.
 */
async function echoSocket(ctx: ScenarioContext, api: LabApi, request: Request): Promise<Response> {
  const caller = callerOf(request.headers);
  const identity = await identityOf(ctx, api, request.headers);
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.addEventListener("message", (event) => server.send(`echo: ${String(event.data)}`));
  server.addEventListener("close", () => {
    // The close handshake: the runtime's socket answers a close with one.
    if (server.readyState === 2) server.close(1000, "");
  });
  ctx.log.add(
    "demo-api",
    request.method,
    request.url,
    101,
    `WebSocket echo opened; caller: ${callerNote(caller)}; ${identityNote(identity)}`,
  );
  return new RuntimeResponse(null, { status: 101, webSocket: client }) as unknown as Response;
}

export async function handleDemoApi(
  ctx: ScenarioContext,
  api: LabApi,
  request: Request,
): Promise<Response> {
  if (isWebSocketRequest(request.method, request.headers.get("upgrade") ?? undefined))
    return echoSocket(ctx, api, request);
  const url = new URL(request.url);
  const origin = request.headers.get("origin");
  const policy = ctx.originCors(api);

  if (request.method === "OPTIONS") {
    const ask = readPreflight(request.headers);
    if (!originAllowed(policy, ask.origin)) {
      ctx.log.add(
        "demo-api",
        request.method,
        request.url,
        403,
        `its own CORS policy refuses origin ${ask.origin ?? "(none)"}`,
        { answer: { headers: {} } },
      );
      return json({ error: "origin not allowed" }, 403);
    }
    const answer = answerPreflight(policy, ask);
    ctx.log.add(
      "demo-api",
      request.method,
      request.url,
      204,
      "answered the preflight from its own CORS policy",
      { answer: { headers: answer.headers } },
    );
    return new Response(null, {
      status: 204,
      headers: { ...answer.headers, "x-lab-served-by": "demo-api" },
    });
  }

  // A cross-origin write from an origin the API does not trust is refused
  // before it acts, since CORS only stops the page from reading the answer.
  if (origin && origin !== url.origin && unsafe(request.method) && !originAllowed(policy, origin)) {
    ctx.log.add(
      "demo-api",
      request.method,
      request.url,
      403,
      `refused a write from origin ${origin}`,
      { answer: { headers: {} } },
    );
    return json({ error: "origin not allowed" }, 403);
  }

  const caller = callerOf(request.headers);
  const cors = responseCorsHeaders(policy, origin);
  if (
    url.pathname === "/" &&
    request.method === "GET" &&
    (request.headers.get("accept") ?? "").includes("text/html")
  ) {
    ctx.log.add("demo-api", request.method, request.url, 200, "welcome page");
    const front = `https://${ctx.topology.frontend.hostname}/`;
    const who = caller.kind === "person" ? caller.email : caller.kind;
    return html(`<!doctype html><meta charset="utf-8"><title>Demo API</title>
<body style="font:16px system-ui,sans-serif;max-width:36rem;margin:4rem auto">
<h1>Logged in to ${escapeHtml(url.hostname)}</h1><p>This browser now holds the API app's CF_Authorization cookie, for ${escapeHtml(who)}.</p>
<p><a id="back" href="${escapeHtml(front)}">Back to the lab on ${escapeHtml(front)}</a></p>
${foreignSocketProbe(`wss://${ctx.topology.frontend.hostname}${api.routePrefix}/live`)}</body>`);
  }

  const echo: Echo = {
    servedBy: "demo-api",
    host: url.host,
    method: request.method,
    path: url.pathname,
    query: url.search,
    caller,
    identity: await identityOf(ctx, api, request.headers),
    headers: visibleHeaders(request.headers),
    body: request.body ? (await request.text()).slice(0, 2000) : "",
  };
  ctx.log.add(
    "demo-api",
    request.method,
    request.url,
    200,
    `echoed; caller: ${callerNote(caller)}; ${identityNote(echo.identity)}`,
    {
      answer: { headers: cors },
    },
  );
  return json(echo, 200, { ...cors, "x-lab-served-by": "demo-api" });
}
