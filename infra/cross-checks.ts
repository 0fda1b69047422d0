/**
 * Checks that span several values: the APIs' hostnames, prefixes and names
 * against each other and the front end's, an API's CORS settings as a whole,
 * and whether anybody can log in. Pure, so the component runs them again on
 * values that resolve later, with the same words.
 */
import type { ApiConfig } from "./config";
import type { ApiKey } from "./settings";
import { checkStringList } from "./validate";

/** An API's config, and the path each of its values is named by in a problem. */
export type LabelledApi = ApiConfig & {
  labels: Record<ApiKey, string>;
  /** Whether the entry gives its own name. */
  named: boolean;
};

/**
 * What is wrong with the APIs together: hostnames, prefixes and names each
 * used once, none on the front end's own hostname, and each API's CORS
 * settings coherent. Values not known yet are skipped.
 */
export function apiProblems(
  frontendHostname: string | undefined,
  apis: readonly LabelledApi[],
  listed: readonly { at: string | undefined }[] = [],
): [string, string][] {
  return [
    ...hostnameProblems(frontendHostname, apis, listed),
    ...prefixProblems(apis, listed),
    ...apis.flatMap((api) =>
      corsProblems(api).map(([key, problem]): [string, string] => [api.labels[key], problem]),
    ),
  ];
}

/** Where the n-th API is given, for a problem that names another API. */
const ownerOf = (listed: readonly { at: string | undefined }[], n: number): string =>
  listed[n]?.at ?? `apis[${n}]`;

/** Each API on a hostname of its own, and none on the front end's. */
export function hostnameProblems(
  frontendHostname: string | undefined,
  apis: readonly { hostname: string | undefined; labels: { hostname: string } }[],
  listed: readonly { at: string | undefined }[] = [],
): [string, string][] {
  const problems: [string, string][] = [];
  apis.forEach((api, n) => {
    if (api.hostname === undefined) return;
    if (api.hostname === frontendHostname) {
      problems.push([
        api.labels.hostname,
        `must differ from frontendHostname (both are ${frontendHostname})`,
      ]);
    }
    const same = apis.slice(0, n).findIndex((e) => e.hostname === api.hostname);
    if (same >= 0) {
      problems.push([
        api.labels.hostname,
        `${api.hostname} is also ${ownerOf(listed, same)}.hostname; each API needs a hostname of its own (Access takes one app per hostname)`,
      ]);
    }
  });
  return problems;
}

/** Each API on a prefix of its own, and named apart from the others. */
function prefixProblems(
  apis: readonly LabelledApi[],
  listed: readonly { at: string | undefined }[],
): [string, string][] {
  const problems: [string, string][] = [];
  apis.forEach((api, n) => {
    if (api.routePrefix === undefined) return;
    const earlier = apis.slice(0, n);
    const same = earlier.findIndex((e) => e.routePrefix === api.routePrefix);
    const sameKey = api.key === "" ? -1 : earlier.findIndex((e) => e.key === api.key);
    if (same >= 0) {
      problems.push([
        api.labels.routePrefix,
        `${api.routePrefix} is also ${ownerOf(listed, same)}.routePrefix; each API needs a prefix of its own (a zone takes one route per pattern)`,
      ]);
    } else if (n > 0 && api.key === "") {
      problems.push([
        api.labels.routePrefix,
        "needs a letter or digit, to name the API's resources",
      ]);
    } else if (sameKey >= 0) {
      const other = apis[sameKey]!;
      const theirs = other.named
        ? `${ownerOf(listed, sameKey)}.name`
        : `${ownerOf(listed, sameKey)}.routePrefix ${other.routePrefix}`;
      problems.push(
        api.named
          ? [
              api.labels.name,
              `names this API's resources "${api.key}", as ${theirs} does; give each API a name of its own`,
            ]
          : [
              api.labels.routePrefix,
              `names this API's resources "${api.key}", as ${theirs} does; change one of them`,
            ],
      );
    }
  });
  return problems;
}

/** What is wrong with one API's CORS settings as a whole. */
export function corsProblems(
  api: Pick<
    ApiConfig,
    "corsAllowedOrigins" | "corsAllowedMethods" | "corsAllowedHeaders" | "corsAllowCredentials"
  >,
): [ApiKey, string][] {
  const problems: [ApiKey, string][] = [];
  for (const key of ["corsAllowedOrigins", "corsAllowedMethods", "corsAllowedHeaders"] as const) {
    const list = api[key];
    if (list && list.includes("*") && list.length > 1) {
      problems.push([key, `"*" means all and cannot be combined with other entries`]);
    }
  }
  if (api.corsAllowedMethods && api.corsAllowedMethods.length === 0) {
    problems.push(["corsAllowedMethods", "must list at least one method"]);
  }
  if (api.corsAllowCredentials === true && api.corsAllowedOrigins?.includes("*")) {
    problems.push([
      "corsAllowedOrigins",
      `"*" (all origins) cannot be combined with corsAllowCredentials: true; list the origins, or set corsAllowCredentials to false`,
    ]);
  }
  return problems;
}

/** An empty origin list means the front end's own origin, the one caller the design expects. */
export function originsOrFrontEnd(
  origins: string[] | undefined,
  frontendHostname: string | undefined,
): string[] | undefined {
  return origins?.length === 0 && frontendHostname !== undefined
    ? [`https://${frontendHostname}`]
    : origins;
}

/** Why nobody could log in, or undefined when somebody can. */
export function loginProblem(
  emails: readonly string[] | undefined,
  domains: readonly string[] | undefined,
): string | undefined {
  return emails?.length === 0 && domains?.length === 0
    ? "nobody could log in: set allowedEmails or allowedEmailDomains (at least one entry), " +
        "include rules in peopleRules, or peoplePolicyIds"
    : undefined;
}

/** How many entries a list has: its checked value's, or the given list's while its items are not known yet. */
export function countOf(checked: unknown, given: unknown): number {
  if (Array.isArray(checked)) return checked.length;
  if (Array.isArray(given)) return given.length;
  const text = typeof given === "string" ? checkStringList(given) : undefined;
  return text?.ok ? text.value.length : 0;
}

/** How many shorthand include rules there are (allowedEmails, allowedEmailDomains), if known. */
export function shorthandOf(values: Partial<Record<string, unknown>>): {
  entries: number | undefined;
} {
  const { allowedEmails: e, allowedEmailDomains: d } = values;
  return {
    entries: Array.isArray(e) && Array.isArray(d) ? e.length + d.length : undefined,
  };
}

const ruleCount = (rules: unknown, list?: "include"): number => {
  if (typeof rules !== "object" || rules === null) return 0;
  const lists = rules as Record<string, unknown>;
  return (list ? [list] : ["include", "require", "exclude"]).reduce(
    (n, l) => n + (Array.isArray(lists[l]) ? (lists[l] as unknown[]).length : 0),
    0,
  );
};

/**
 * Who may log in, as a whole: the people policy's rules, or reusable
 * policies instead of it, never both; and somebody at all. Values not known
 * yet are skipped, for the caller to check once they are.
 */
export function peopleProblems(
  values: Partial<Record<string, unknown>>,
  policyIds: number,
): [string, string][] {
  const given = {
    peopleRules: ruleCount(values.peopleRules),
    allowedEmails: countOf(values.allowedEmails, undefined),
    allowedEmailDomains: countOf(values.allowedEmailDomains, undefined),
  };
  if (policyIds > 0) {
    return Object.entries(given)
      .filter(([, n]) => n > 0)
      .map(([key]) => [
        "peoplePolicyIds",
        `cannot be set together with ${key}: with peoplePolicyIds no people policy is declared, so ` +
          `${key} would admit nobody; add those people to one of the policies, or leave peoplePolicyIds out`,
      ]);
  }
  const rules = values.peopleRules;
  // An empty include list the rules give is refused at peopleRules.include.
  const givesInclude = typeof rules === "object" && rules !== null && "include" in rules;
  if (rules === undefined || ruleCount(rules) > 0 || givesInclude) return [];
  const nobody = loginProblem(
    values.allowedEmails as string[] | undefined,
    values.allowedEmailDomains as string[] | undefined,
  );
  return nobody ? [["allowedEmails", nobody]] : [];
}

/** Why autoRedirectToIdentity cannot be on, or undefined; the IdPs are skipped while not known. */
export function redirectProblem(
  redirect: boolean | undefined,
  idps: readonly unknown[] | undefined,
): string | undefined {
  if (redirect !== true || idps === undefined || idps.length === 1) return undefined;
  return (
    `true needs exactly one identity provider in allowedIdps, got ${idps.length}: Access skips the ` +
    "choice of identity provider only when there is one to go to, and refuses it otherwise"
  );
}
