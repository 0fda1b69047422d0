/**
 * A response the API lets shared caches keep: `public` (RFC 9111 §5.2.2.9)
 * or `s-maxage` (§5.2.2.10). Checked before the value is split, so most
 * answers pay one regex.
 */
const SHAREABLE = /(?:^|,)\s*(?:public|s-maxage)\b/i;

/** One directive, a quoted argument kept whole: `no-cache="a, b"` is one. */
const DIRECTIVE = /(?:[^,"]|"(?:[^"\\]|\\.)*")+/g;

/**
 * What the answer is read for: a shared cache's permission, its own
 * lifetime and revalidation rule, and any `private`, which comes back
 * unqualified: `private="set-cookie"` would leave the rest shareable.
 */
const SHARED_CACHE_DIRECTIVES = new Set(["public", "s-maxage", "proxy-revalidate", "private"]);

/**
 * `Cache-Control` as the browser gets it: the API answers one person, with a
 * token every caller shares, so nothing between the Worker and the browser
 * may keep the answer for someone else. One that permits shared caches
 * becomes `private` with its other directives as they were
 * (`public, max-age=60, s-maxage=600` is `private, max-age=60`); any other
 * value is left alone (`undefined`).
 */
export function privateCacheControl(value: string): string | undefined {
  if (!SHAREABLE.test(value)) return undefined;
  const kept = (value.match(DIRECTIVE) ?? [])
    .map((directive) => directive.trim())
    .filter((directive) => {
      const name = directive.split("=", 1)[0]!.trim().toLowerCase();
      return name !== "" && !SHARED_CACHE_DIRECTIVES.has(name);
    });
  return ["private", ...kept].join(", ");
}
