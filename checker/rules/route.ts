/** The Workers route's rules: where a pattern may point, and one route per pattern. */
import { kindOf } from "../../infra/resource-types";
import { BINDINGS } from "../../worker/src/env";
import type { DeclaredInputs, Rule } from ".";
import { domainOf, isObject, isSet, listOf, required, sharing, TFP, type Inputs } from "./helpers";

export const routeRules: readonly Rule[] = [
  {
    id: "RT-1",
    kind: "route",
    stage: "preview",
    source: `${TFP}/workers_route/schema.go L33-46`,
    check: (i) => required(i, { zoneId: "zone_id", pattern: "pattern" }),
  },
  {
    id: "RT-2",
    kind: "route",
    stage: "apply",
    // The zone's name is not declared, so the host is held to the front end's
    // hostname, the one name the declaration knows to be served by that zone.
    // A route whose Worker verifies an aud no declared app has serves a front
    // end whose app, and hostname, are declared elsewhere: nothing to hold it to.
    source:
      "https://developers.cloudflare.com/workers/configuration/routing/routes/ (code 10022: route pattern must include zone name)",
    check: (i, all) => {
      if (typeof i.pattern !== "string") return [];
      const apps = all.filter((r) => kindOf(r.type) === "app" && domainOf(r.inputs) !== undefined);
      const aud = bindingText(scriptOfRoute(i, all), BINDINGS.aud);
      const known = apps.filter((a) => typeof a.state?.aud === "string");
      if (
        aud !== undefined &&
        known.length === apps.length &&
        !known.some((a) => a.state!.aud === aud)
      ) {
        return [];
      }
      const domains = apps.map((r) => domainOf(r.inputs)!);
      const host = routeHost(i.pattern);
      return domains.includes(host)
        ? []
        : [
            `pattern ${JSON.stringify(i.pattern)} is not on a hostname this stack protects with Access (${domains.join(", ") || "none"}), so it may lie outside the front end's zone`,
          ];
    },
  },
  {
    id: "RT-4",
    kind: "route",
    stage: "apply",
    source:
      "https://developers.cloudflare.com/workers/configuration/routing/routes/ (wildcards only as host prefix or path suffix; no query)",
    check: (i) => {
      if (typeof i.pattern !== "string") return [];
      const pattern = i.pattern.replace(/^[a-z]+:\/\//i, "");
      const slash = pattern.indexOf("/");
      const host = slash < 0 ? pattern : pattern.slice(0, slash);
      const path = slash < 0 ? "" : pattern.slice(slash);
      const hostOk = !host.slice(1).includes("*");
      const pathOk = !path.slice(0, -1).includes("*");
      return hostOk && pathOk && !/[?#\s]/.test(pattern) && slash > 0
        ? []
        : [
            `pattern ${JSON.stringify(i.pattern)} is not a valid route: "*" only as a host prefix or a path suffix, a path is required, no query`,
          ];
    },
  },
  {
    id: "RT-5",
    kind: "route",
    stage: "apply",
    source:
      "https://github.com/cloudflare/cloudflare-docs/pull/8400 (one route per pattern per zone)",
    check: (i, all) => {
      // A pattern's host puts it in one zone, so the same pattern twice is
      // one zone's twice, whatever zone ids the declarations name.
      if (typeof i.pattern !== "string") return [];
      const same = sharing(all, "route", (o) => sameRoute(o.pattern, i.pattern as string));
      return same.length > 1
        ? [
            `pattern ${JSON.stringify(i.pattern)} is declared ${same.length} times (${same.map((r) => r.name).join(", ")}); a zone takes one route per pattern`,
          ]
        : [];
    },
  },
];

/** The host of a route pattern such as `*.example.com/api/*`, lower-cased. */
export function routeHost(pattern: string): string {
  return pattern
    .replace(/^[a-z]+:\/\//i, "")
    .split("/")[0]!
    .toLowerCase();
}

/** Whether two route patterns are one: hosts compare without case, paths with it. */
function sameRoute(a: unknown, b: string): boolean {
  if (typeof a !== "string") return false;
  const split = (p: string) => {
    const bare = p.replace(/^[a-z]+:\/\//i, "");
    const slash = bare.indexOf("/");
    return slash < 0
      ? [bare.toLowerCase(), ""]
      : [bare.slice(0, slash).toLowerCase(), bare.slice(slash)];
  };
  const [hostA, pathA] = split(a);
  const [hostB, pathB] = split(b);
  return hostA === hostB && pathA === pathB;
}

/** The declared script a route sends its requests to. */
function scriptOfRoute(route: Inputs, all: readonly DeclaredInputs[]): DeclaredInputs | undefined {
  return all.find(
    (r) =>
      kindOf(r.type) === "script" && isSet(route.script) && r.inputs.scriptName === route.script,
  );
}

/** A script binding's text, when it is plain text in the declaration. */
function bindingText(script: DeclaredInputs | undefined, name: string): string | undefined {
  const binding = listOf(script?.inputs.bindings).find((b) => isObject(b) && b.name === name);
  return isObject(binding) && typeof binding.text === "string" ? binding.text : undefined;
}
