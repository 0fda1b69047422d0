import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { configKeys, defaults, projectName } from "../../infra/config";
import { repoRoot } from "../support/stacks";

interface KeySpec {
  type?: string;
  description?: string;
  default?: unknown;
  items?: { type?: string };
}

const text = readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8");
const project = parse(text) as {
  name: string;
  main: string;
  stackConfigDir: string;
  runtime: { name: string; options?: { typescript?: boolean } };
  config: Record<string, KeySpec>;
};

describe("Pulumi.yaml", () => {
  it("names the project, its program and the stack config folder", () => {
    expect(project.name).toBe(projectName);
    expect(project.main).toBe("infra/index.ts");
    expect(project.stackConfigDir).toBe("stacks");
    expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: true } });
  });

  // Pulumi.yaml's config types are string, integer, boolean and array; the
  // `apis` list of objects and the `adopt` and `peopleRules` objects cannot be
  // declared there, so a comment documents them.
  const objects: string[] = ["apis", "adopt", "peopleRules"];
  const declarable = configKeys.filter((key) => !objects.includes(key));

  it("documents every key the program reads, with a type and a description", () => {
    expect(Object.keys(project.config).sort()).toEqual([...declarable].sort());
    expect(text).toMatch(/^# {2}adopt: /m);
    expect(text).toMatch(/^# {2}apis: /m);
    expect(text).toMatch(/^# {2}peopleRules: /m);
    // With the worked example, as a stack file spells it.
    expect(text).toMatch(
      /^# {6}access-bridge:peopleRules:\n# {8}include:\n# {10}- githubOrganization: /m,
    );
    for (const key of declarable) {
      const spec = project.config[key]!;
      expect([key, spec.type]).toEqual([
        key,
        expect.stringMatching(/^(string|integer|boolean|array)$/),
      ]);
      expect(spec.description?.length ?? 0).toBeGreaterThan(20);
      if (spec.type === "array") expect(spec.items).toEqual({ type: "string" });
    }
  });

  it("declares the same defaults as the program, except where empty means unset", () => {
    // A fraction is declared as text, the only type project config has for it.
    const asText = ["workerLogsSampleRate"];
    for (const [key, value] of Object.entries(defaults).filter(([k]) => !objects.includes(k))) {
      const expected = key === "routePrefix" ? "" : asText.includes(key) ? String(value) : value;
      expect([key, project.config[key]?.default]).toEqual([key, expected]);
    }
  });

  it("declares empty defaults for the keys another key replaces, so the CLI requires neither", () => {
    // A stack with `apis` sets neither apiHostname nor routePrefix, and one
    // with frontendAud declares no front-end app: empty means unset.
    for (const key of ["apiHostname", "routePrefix", "frontendAud"]) {
      expect([key, project.config[key]?.default]).toEqual([key, ""]);
    }
  });

  it("leaves a default out only for keys every stack must set", () => {
    // The CLI refuses to run a stack that lacks a declared key without a default.
    const required = declarable.filter((key) => !("default" in project.config[key]!));
    expect(required.sort()).toEqual(
      ["accessTeamDomain", "accountId", "frontendHostname", "frontendZoneId", "protect"].sort(),
    );
  });
});
