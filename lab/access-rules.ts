/**
 * The parts of Cloudflare Access's decision the lab emulates, as pure functions.
 *
 * - People: an `allow` policy's include rules admit an email or an email
 *   domain; the person proves who they are with the app's `CF_Authorization`
 *   cookie, a JWT whose `aud` is that app's AUD tag
 *   (https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/).
 * - Service tokens: a request carrying `CF-Access-Client-Id` and
 *   `CF-Access-Client-Secret` of a token that a `non_identity` ("Service
 *   Auth") policy includes is let through without any login
 *   (https://developers.cloudflare.com/cloudflare-one/identity/service-tokens/).
 */
import type { AppAccess, ServiceTokenCredential } from "./topology";

export function personAllowed(access: AppAccess, email: string): boolean {
  const normalized = email.trim().toLowerCase();
  const domain = normalized.split("@")[1] ?? "";
  return (
    access.emails.includes(normalized) || (domain !== "" && access.emailDomains.includes(domain))
  );
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
