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
import { cookieValue, personDecision, sampleEmail, unemulatedNote } from "./access-rules";
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
  amr: string[],
  redirectUrl: string,
): string {
  const token = signToken(
    ctx.keys,
    accessClaims(ctx.topology.teamDomain, app.aud, { email, amr }, sessionSeconds),
  );
  return `https://${app.hostname}/cdn-cgi/access/authorized?token=${token}&redirect_url=${encodeURIComponent(redirectUrl)}`;
}

function loginPage(app: LabApp, redirectUrl: string, email: string, error = ""): string {
  const { access } = app;
  const allowed = [
    ...(access.everyone ? ["everyone"] : []),
    ...access.emails,
    ...access.emailDomains.map((d) => `*@${d}`),
  ].join(", ");
  const excluded = [
    ...(access.excludedEmails ?? []),
    ...(access.excludedDomains ?? []).map((d) => `*@${d}`),
  ].join(", ");
  // The stand-in for the identity provider's second factor, which Access reads from the login.
  const mfa = access.requireMfa
    ? `<label><input name="mfa" type="checkbox" value="1"> Confirm with a second factor (the app's policy requires authMethod mfa)</label>`
    : "";
  const unemulated = unemulatedNote(access);
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sign in · ${escapeHtml(app.hostname)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem .6rem}label{display:block;margin:.5rem 0}.err{color:#b00020}
.note{color:#555;font-size:.9rem}</style></head><body>
<p class="note">Local lab · emulated Cloudflare Access login</p>
<h1>Sign in to ${escapeHtml(app.hostname)}</h1>
${error ? `<p class="err">${escapeHtml(error)}</p>` : ""}
<form method="post"><input type="hidden" name="redirect_url" value="${escapeHtml(redirectUrl)}">
<label>Email <input name="email" type="email" value="${escapeHtml(email)}" size="32" required></label>
${mfa}<button type="submit">Sign in</button></form>
${excluded ? `<p class="note excluded">The app's policy excludes: ${escapeHtml(excluded)}</p>\n` : ""}${unemulated ? `<p class="note unemulated">${escapeHtml(unemulated)}</p>\n` : ""}<p class="note">The app's allow policy admits: ${escapeHtml(allowed || "nobody")}</p></body></html>`;
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
  const sessionClaims = session ? verifyToken(ctx.keys, session, teamAudience) : null;
  const email = form?.get("email") ?? sessionClaims?.email;
  if (!email) {
    ctx.log.add("idp", request.method, request.url, 200, "login form");
    return html(loginPage(app, redirectUrl, sampleEmail(app.access)));
  }
  // A form's second factor, or the one the team session was opened with.
  const amr = form
    ? ["pwd", ...(form.get("mfa") ? ["mfa"] : [])]
    : Array.isArray(sessionClaims?.amr)
      ? sessionClaims.amr
      : ["pwd"];
  const decision = personDecision(app.access, email, amr);
  if (!decision.allowed) {
    // A team session without the second factor this app requires logs in anew.
    if (!form && decision.reason === "mfa") {
      ctx.log.add("idp", request.method, request.url, 200, "login form: the app requires mfa");
      return html(loginPage(app, redirectUrl, email));
    }
    const note =
      decision.reason === "not-included"
        ? `${email} is not allowed by the app's policies`
        : `${decision.why}: refused`;
    ctx.log.add("idp", request.method, request.url, 403, note);
    const shown = {
      "not-included": `${email} is not allowed to use ${app.hostname}.`,
      excluded: `${email} is excluded from ${app.hostname} by the app's policy.`,
      mfa: `${app.hostname} requires multi-factor authentication (authMethod mfa): confirm the second factor.`,
    }[decision.reason];
    return html(loginPage(app, redirectUrl, email, shown), 403);
  }
  ctx.log.add("idp", request.method, request.url, 302, `logged in ${email} to ${app.hostname}`);
  const teamToken = signToken(
    ctx.keys,
    accessClaims(ctx.topology.teamDomain, teamAudience, { email, amr }, sessionSeconds),
  );
  return new Response(null, {
    status: 302,
    headers: {
      location: authorizedRedirect(ctx, app, email, amr, redirectUrl),
      "set-cookie": `CF_Authorization=${teamToken}; Path=/; Max-Age=${sessionSeconds}; Secure; HttpOnly; SameSite=Lax`,
      "cache-control": "no-store",
    },
  });
}
