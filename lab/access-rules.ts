/**
 * The parts of Cloudflare Access's decision the lab emulates, as pure functions.
 *
 * - People: an `allow` policy admits who meets one include rule, every
 *   require rule and no exclude rule
 *   (https://developers.cloudflare.com/cloudflare-one/policies/access/); the
 *   person proves who they are with the app's `CF_Authorization` cookie, a
 *   JWT whose `aud` is that app's AUD tag
 *   (https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/).
 * - Service tokens: a request carrying `CF-Access-Client-Id` and
 *   `CF-Access-Client-Secret` of a token that a `non_identity` ("Service
 *   Auth") policy includes is let through without any login
 *   (https://developers.cloudflare.com/cloudflare-one/identity/service-tokens/).
 */
import type { AppAccess, ServiceTokenCredential } from "./topology";

/** Whether the app's policies let a person in, and if not, why, in the words the login page shows. */
export type Decision =
  { allowed: true } | { allowed: false; reason: "excluded" | "not-included" | "mfa"; why: string };

/**
 * An allow policy's decision for a person, as Access makes it: one include
 * rule met, every require rule met, no exclude rule met. `amr` holds the
 * authentication methods the login used (RFC 8176, as Access puts them in
 * the token). A rule the lab cannot evaluate is treated as satisfied: an
 * include admits anyone, a require is met, an exclude keeps nobody out.
 */
export function personDecision(
  access: AppAccess,
  email: string,
  amr: readonly string[] = [],
): Decision {
  const normalized = email.trim().toLowerCase();
  const domain = normalized.split("@")[1] ?? "";
  const inDomain = (domains: readonly string[] | undefined) =>
    domain !== "" && (domains ?? []).includes(domain);
  if ((access.excludedEmails ?? []).includes(normalized) || inDomain(access.excludedDomains)) {
    return { allowed: false, reason: "excluded", why: `${email} is excluded by the app's policy` };
  }
  // An include, or a policy of unknown rules, that the lab cannot evaluate lets anyone in.
  const unemulatedInclude = (access.unemulated ?? []).some((r) => !/^(require|exclude) /.test(r));
  const included =
    access.everyone === true ||
    access.emails.includes(normalized) ||
    inDomain(access.emailDomains) ||
    unemulatedInclude;
  if (!included) return { allowed: false, reason: "not-included", why: `${email} is not allowed` };
  if (access.requireMfa && !amr.includes("mfa")) {
    return {
      allowed: false,
      reason: "mfa",
      why: `the app's policy requires multi-factor authentication (authMethod mfa), and ${email} logged in without it`,
    };
  }
  return { allowed: true };
}

export function personAllowed(
  access: AppAccess,
  email: string,
  amr: readonly string[] = [],
): boolean {
  return personDecision(access, email, amr).allowed;
}

/** The token a request authenticates with, if its id and secret match one the app's Service Auth policy includes. */
export function matchServiceToken(
  access: AppAccess,
  headers: Headers,
): ServiceTokenCredential | undefined {
  const id = headers.get("cf-access-client-id");
  const secret = headers.get("cf-access-client-secret");
  if (!id || !secret) return undefined;
  return access.serviceTokens.find((t) => t.clientId === id && t.clientSecret === secret);
}

export function cookieValue(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The email a person may be given by default on the login form: the first allowed address, or one in an allowed domain. */
export function sampleEmail(access: AppAccess): string {
  return access.emails[0] ?? `ada@${access.emailDomains[0] ?? "example.com"}`;
}

/**
 * The cookie Access sets on an app's host after login. HttpOnly and Secure,
 * with `SameSite=None`, the Access default the Worker's cross-site check exists for.
 */
export function authorizationCookie(token: string, maxAgeSeconds: number): string {
  return `CF_Authorization=${token}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=None`;
}

export const clearedAuthorizationCookie =
  "CF_Authorization=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None";

/** What the lab cannot evaluate for an app and treats as satisfied, said plainly; "" when nothing. */
export function unemulatedNote(access: AppAccess): string {
  const rules = access.unemulated ?? [];
  return rules.length === 0
    ? ""
    : `Not emulated here, treated as satisfied (an include admits anyone, a require is met, an exclude keeps nobody out): ${rules.join(", ")}`;
}
