/**
 * The emulated Access identity side, on the team domain
 * (`<team>.cloudflareaccess.com`): the signing keys at the documented certs
 * path, and a login page standing in for the identity provider.
 *
 * Real Access sends the browser to the team domain, then back to
 * `https://<app>/cdn-cgi/access/authorized`, which sets the app's
 * `CF_Authorization` cookie. The lab keeps that shape; the login itself is
 * just an email field, checked against the app's allow policies.
 */
import type { ScenarioContext } from "./context";
import { escapeHtml, html, json } from "./context";
import { cookieValue, personAllowed, sampleEmail } from "./access-rules";
import type { LabApp } from "./topology";
import { accessClaims, signToken, verifyToken } from "./tokens";

export const certsPath = "/cdn-cgi/access/certs";
const loginPrefix = "/cdn-cgi/access/login/";
/** The team-domain session's audience; any value distinct from the apps' AUD tags. */
const teamAudience = "lab-team-session";
export const sessionSeconds = 24 * 3600;

export function loginUrl(teamDomain: string, appHost: string, redirectUrl: string): string {
  return `https://${teamDomain}${loginPrefix}${appHost}?redirect_url=${encodeURIComponent(redirectUrl)}`;
}

function appFor(ctx: ScenarioContext, host: string): LabApp | undefined {
  const { frontend, apis } = ctx.topology;
  return [frontend, ...apis.map((a) => a.app)].find((a) => a.hostname === host);
}

/** Where to send the browser once it is logged in to `app`: the authorized endpoint, carrying a fresh app token. */
function authorizedRedirect(
  ctx: ScenarioContext,
  app: LabApp,
  email: string,
  redirectUrl: string,
): string {
  const token = signToken(
    ctx.keys,
    accessClaims(ctx.topology.teamDomain, app.aud, { email }, sessionSeconds),
  );
  return `https://${app.hostname}/cdn-cgi/access/authorized?token=${token}&redirect_url=${encodeURIComponent(redirectUrl)}`;
}

function loginPage(app: LabApp, redirectUrl: string, email: string, error = ""): string {
  const allowed = [...app.access.emails, ...app.access.emailDomains.map((d) => `*@${d}`)].join(
    ", ",
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sign in · ${escapeHtml(app.hostname)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem .6rem}label{display:block;margin:.5rem 0}.err{color:#b00020}
.note{color:#555;font-size:.9rem}</style></head><body>
<p class="note">Local lab · emulated Cloudflare Access login</p>
<h1>Sign in to ${escapeHtml(app.hostname)}</h1>
${error ? `<p class="err">${escapeHtml(error)}</p>` : ""}
<form method="post"><input type="hidden" name="redirect_url" value="${escapeHtml(redirectUrl)}">
<label>Email <input name="email" type="email" value="${escapeHtml(email)}" size="32" required></label>
<button type="submit">Sign in</button></form>
<p class="note">The app's allow policy admits: ${escapeHtml(allowed || "nobody")}</p></body></html>`;
}

export async function handleTeamDomain(ctx: ScenarioContext, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === certsPath && request.method === "GET") {
    ctx.log.add("idp", request.method, request.url, 200, "signing keys");
    return json(ctx.keys.jwks);
  }
  if (!url.pathname.startsWith(loginPrefix)) return json({ error: "not found" }, 404);

  const app = appFor(ctx, url.pathname.slice(loginPrefix.length).toLowerCase());
  if (!app) return json({ error: "no Access application for that host in this scenario" }, 404);
  const form = request.method === "POST" ? new URLSearchParams(await request.text()) : undefined;
  const redirectUrl =
    form?.get("redirect_url") ?? url.searchParams.get("redirect_url") ?? `https://${app.hostname}/`;

  // A team-domain session logs the person in to every app of the team without
  // asking again, as Access does; each app still gets its own cookie.
  const session = cookieValue(request.headers, "CF_Authorization");
  const sessionEmail = session ? verifyToken(ctx.keys, session, teamAudience)?.email : undefined;
  const email = form?.get("email") ?? sessionEmail;
  if (!email) {
    ctx.log.add("idp", request.method, request.url, 200, "login form");
    return html(loginPage(app, redirectUrl, sampleEmail(app.access)));
  }
  if (!personAllowed(app.access, email)) {
    ctx.log.add(
      "idp",
      request.method,
      request.url,
      403,
      `${email} is not allowed by the app's policies`,
    );
    return html(
      loginPage(app, redirectUrl, email, `${email} is not allowed to use ${app.hostname}.`),
      403,
    );
  }
  ctx.log.add("idp", request.method, request.url, 302, `logged in ${email} to ${app.hostname}`);
  const teamToken = signToken(
    ctx.keys,
    accessClaims(ctx.topology.teamDomain, teamAudience, { email }, sessionSeconds),
  );
  return new Response(null, {
    status: 302,
    headers: {
      location: authorizedRedirect(ctx, app, email, redirectUrl),
      "set-cookie": `CF_Authorization=${teamToken}; Path=/; Max-Age=${sessionSeconds}; Secure; HttpOnly; SameSite=Lax`,
      "cache-control": "no-store",
    },
  });
}
