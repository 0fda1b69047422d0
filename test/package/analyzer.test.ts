/**
 * The schema `pulumi package add` generates from this repository, produced
 * offline by the same introspection the CLI runs on a source-based package.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";
import { generateSchema } from "@pulumi/pulumi/provider/experimental/schema";
import { parse } from "yaml";
import { configKeys } from "../../infra/config";
import { peopleSelectorNames } from "../../infra/people-rules";

const repoRoot = path.resolve(__dirname, "..", "..");
const packageJson = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));

interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  plain?: boolean;
  description?: string;
}
interface Schema {
  name: string;
  resources: Record<
    string,
    {
      isComponent: boolean;
      inputProperties: Record<string, Property>;
      requiredInputs?: string[];
      properties: Record<string, Property>;
      required?: string[];
    }
  >;
  types: Record<
    string,
    { type: string; enum?: { value: string }[]; properties?: Record<string, Property> }
  >;
}

let schema: Schema;
beforeAll(() => {
  const analyzer = new Analyzer(repoRoot, "access-bridge", packageJson, new Set(["AccessBridge"]));
  const { components, typeDefinitions, dependencies } = analyzer.analyze();
  schema = generateSchema(
    "access-bridge",
    packageJson.version,
    packageJson.description,
    components,
    typeDefinitions,
    dependencies,
    undefined,
  ) as unknown as Schema;
}, 120_000);

const component = () => schema.resources["access-bridge:index:AccessBridge"]!;

describe("the component package's schema", () => {
  it("names the package and exports AccessBridge as a component under its token", () => {
    expect(schema.name).toBe("access-bridge");
    expect(Object.keys(schema.resources)).toEqual(["access-bridge:index:AccessBridge"]);
    expect(component().isComponent).toBe(true);
  });

  it("takes every config key as an input of the same name, and the name prefix", () => {
    expect(Object.keys(component().inputProperties).sort()).toEqual(
      [...configKeys, "namePrefix"].sort(),
    );
  });

  it("requires exactly the keys a stack must set; what a program wires from other resources is an input", () => {
    expect([...(component().requiredInputs ?? [])].sort()).toEqual(
      ["accessTeamDomain", "accountId", "frontendHostname", "frontendZoneId"].sort(),
    );
    const inputs = component().inputProperties;
    expect(inputs.accountId).toMatchObject({ type: "string" });
    const wired = [
      "accountId",
      "frontendZoneId",
      "frontendHostname",
      "frontendAud",
      "apiHostname",
      "accessTeamDomain",
      "corsAllowedOrigins",
      "corsAllowedMethods",
      "corsAllowedHeaders",
      "allowedEmails",
      "allowedEmailDomains",
    ];
    for (const key of wired) expect([key, inputs[key]!.plain]).toEqual([key, undefined]);
    // What decides which resources exist stays plain: how many APIs, and the
    // alert's addresses (each of which may still be an input).
    for (const key of ["apis", "alertEmails", "preflight", "routePrefix", "protect"]) {
      expect([key, inputs[key]!.plain]).toEqual([key, true]);
    }
    expect(inputs.alertEmails!.items!.plain).toBeUndefined();
    const api = schema.types["access-bridge:index:ApiArgs"]!.properties!;
    expect(api.hostname!.plain).toBeUndefined();
    expect(api.corsAllowedOrigins!.plain).toBeUndefined();
    expect(api.routePrefix!.plain).toBe(true);
  });

  it("types each input as its config key is typed", () => {
    const inputs = component().inputProperties;
    const typeOf = (p: Property) => p.type ?? p.$ref;
    const expected: Record<string, string> = {
      corsAllowedOrigins: "array",
      corsAllowedMethods: "array",
      corsAllowedHeaders: "array",
      allowedEmails: "array",
      allowedEmailDomains: "array",
      alertEmails: "array",
      corsAllowCredentials: "boolean",
      stripRoutePrefix: "boolean",
      protect: "boolean",
      corsMaxAge: "number",
      serviceTokenSecretVersion: "number",
      serviceTokenRotationGraceHours: "number",
      upstreamTimeoutMs: "number",
      identityKeyVersion: "number",
      identityKeyPrepublish: "boolean",
      routePrefix: "string",
      sessionDuration: "string",
      serviceTokenDuration: "string",
      preflight: "#/types/access-bridge:index:PreflightMode",
      adopt: "#/types/access-bridge:index:AdoptIds",
    };
    for (const [key, type] of Object.entries(expected)) {
      expect([key, typeOf(inputs[key]!)]).toEqual([key, type]);
    }
    expect(schema.types["access-bridge:index:PreflightMode"]).toMatchObject({
      type: "string",
      enum: [
        expect.objectContaining({ value: "cloudflare" }),
        expect.objectContaining({ value: "origin" }),
      ],
    });
    expect(
      Object.keys(schema.types["access-bridge:index:AdoptIds"]!.properties ?? {}).sort(),
    ).toEqual(
      [
        "apiAppId",
        "frontendAppId",
        "peoplePolicyId",
        "routeId",
        "serviceAuthPolicyId",
        "serviceTokenId",
      ].sort(),
    );
  });

  it("describes peopleRules as include, require and exclude lists of typed rules, one type per selector", () => {
    const inputs = component().inputProperties;
    expect(inputs.peopleRules).toMatchObject({ $ref: "#/types/access-bridge:index:PeopleRules" });
    const lists = schema.types["access-bridge:index:PeopleRules"]!;
    expect(lists.type).toBe("object");
    expect(Object.keys(lists.properties ?? {}).sort()).toEqual(["exclude", "include", "require"]);
    for (const list of ["include", "require", "exclude"]) {
      expect([list, lists.properties![list]]).toEqual([
        list,
        expect.objectContaining({
          type: "array",
          items: expect.objectContaining({ $ref: "#/types/access-bridge:index:PeopleRule" }),
        }),
      ]);
    }
    const rule = schema.types["access-bridge:index:PeopleRule"]!.properties!;
    expect(Object.keys(rule).sort()).toEqual([...peopleSelectorNames].sort());
    const github = schema.types["access-bridge:index:GithubOrganizationRule"] as {
      properties: Record<string, Property>;
      required?: string[];
    };
    expect(rule.githubOrganization!.$ref).toBe(
      "#/types/access-bridge:index:GithubOrganizationRule",
    );
    expect(Object.keys(github.properties).sort()).toEqual(["identityProviderId", "name", "team"]);
    expect([...(github.required ?? [])].sort()).toEqual(["identityProviderId", "name"]);
    // Ids and lists a program wires from other resources are inputs; the redirect is plain.
    expect(inputs.peoplePolicyIds).toMatchObject({ type: "array", plain: true });
    expect(inputs.peoplePolicyIds!.items!.plain).toBeUndefined();
    expect(inputs.allowedIdps!.plain).toBeUndefined();
    expect(inputs.autoRedirectToIdentity).toMatchObject({ type: "boolean", plain: true });
  });

  it("documents every input, so the generated SDKs carry the docs", () => {
    for (const [key, property] of Object.entries(component().inputProperties)) {
      expect([key, property.description?.length ?? 0]).toEqual([key, expect.any(Number)]);
      expect(property.description!.length).toBeGreaterThan(20);
    }
  });

  it("outputs what the program exports, and its children as resources of the Cloudflare package", () => {
    const properties = component().properties;
    expect(Object.keys(properties).sort()).toEqual(
      [
        "apiAppId",
        "apiAud",
        "apis",
        "frontendAppId",
        "frontendAud",
        "identityJwks",
        "peoplePolicyId",
        "previousSecretExpiresAt",
        "routePattern",
        "serviceTokenExpiresAt",
        "serviceTokenId",
        "serviceTokenSecretVersion",
        "workerName",
        "frontendApp",
        "peoplePolicy",
        "apiApps",
        "serviceAuthPolicies",
        "serviceTokens",
        "workers",
        "routes",
      ].sort(),
    );
    const cloudflare = `/cloudflare/v${packageJson.dependencies["@pulumi/cloudflare"]}/schema.json#/resources/`;
    expect(properties.frontendApp!.$ref).toBe(
      `${cloudflare}cloudflare:index%2FzeroTrustAccessApplication:ZeroTrustAccessApplication`,
    );
    expect(properties.routes!.items!.$ref).toBe(
      `${cloudflare}cloudflare:index%2FworkersRoute:WorkersRoute`,
    );
    expect(component().required).not.toContain("frontendApp");
  });

  it("accepts the YAML program of docs/component.md: every property it sets is an input, every required input is set", () => {
    const readme = readFileSync(path.join(repoRoot, "docs", "component.md"), "utf8");
    const block = /```yaml\n(# Pulumi\.yaml[\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    const program = parse(block![1]!) as {
      resources: Record<string, { type: string; properties: Record<string, unknown> }>;
    };
    const [bridge] = Object.values(program.resources);
    expect(bridge!.type).toBe("access-bridge:AccessBridge");
    const inputs = component().inputProperties;
    for (const key of Object.keys(bridge!.properties))
      expect([key, key in inputs]).toEqual([key, true]);
    for (const key of component().requiredInputs ?? []) {
      expect([key, key in bridge!.properties]).toEqual([key, true]);
    }
  });
});
