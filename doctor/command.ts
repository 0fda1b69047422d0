/**
 * The doctor's own command line, written back out: the rerun a HAR triage
 * suggests, and the rerun with a login the live check suggests.
 */
import { isSafelistedRequestHeader, type CorsRequest } from "./cors-check";
import { redactUrl } from "./redact";

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/**
 * `npm run doctor -- …` for a request; `extra` is appended as written (it may
 * hold shell syntax such as `"$(cloudflared access token …)"`). A command
 * that carries a token runs npm silently: npm otherwise echoes the script's
 * arguments, token included, before the doctor can redact anything.
 */
export function doctorCommand(req: CorsRequest, extra: string[] = []): string {
  const carriesLogin = extra.some((a) => /^--(access-token|cookie)\b/.test(a));
  const parts = [
    carriesLogin ? "npm run -s doctor --" : "npm run doctor --",
    `--url '${redactUrl(req.url)}'`,
    `--origin ${req.origin}`,
    `--method ${req.method}`,
  ];
  // Safelisted headers (a browser's default Accept, a form Content-Type) change nothing.
  for (const h of req.headers.filter((x) => !isSafelistedRequestHeader(x.name, x.value))) {
    if (h.name.toLowerCase() === "cookie") continue;
    if (h.value !== undefined && h.name.toLowerCase() === "content-type") {
      parts.push(`--header ${shellQuote(`${h.name}: ${h.value}`)}`);
    } else {
      parts.push(`--header ${h.name}`);
    }
  }
  if (req.credentials) parts.push("--credentials");
  return [...parts, ...extra].join(" ");
}

/** `--route-prefix` as the doctor was given it, to carry into a rerun; nothing when it was not. */
export function routePrefixArgs(routePrefix: string | undefined): string[] {
  return routePrefix !== undefined ? [`--route-prefix ${shellQuote(routePrefix)}`] : [];
}

/** The argument that fetches a person's Access token for `url` as the command runs. */
export function accessTokenArg(url: string): string {
  return `--access-token "$(cloudflared access token -app=${redactUrl(url)})"`;
}
