/**
 * What the lab reads from the real program's declarations: every API with
 * its own app, Worker and route, the front end's app (declared, or managed
 * elsewhere), and the route that serves a path when several match.
 */
import { peopleLines } from "../../lab/start";
import { scenariosFor } from "../../lab/scenarios";
import { apiByRoute, routeFor, topologyOf, type LabTopology } from "../../lab/topology";
import { declareStack, named, stackConfig } from "../support/stacks";

const frontendAud = "a1".repeat(32);

describe("topologyOf, two APIs behind one front end", () => {
  let t: LabTopology;
  beforeAll(async () => {
    t = topologyOf(await declareStack("apis"));
  });

  it("lists each API in the stack's order, with its app, its route and its Worker's bindings", () => {
    expect(
      t.apis.map((a) => [a.app.hostname, a.routePattern, a.routePrefix, a.worker.scriptName]),
    ).toEqual([
      ["api.example.com", "www.example.com/api/*", "/api", expect.stringMatching(/-proxy-/)],
      [
        "billing.example.com",
        "www.example.com/billing/*",
        "/billing",
        expect.stringMatching(/-billing-proxy-/),
      ],
    ]);
    for (const api of t.apis) {
      expect(api.worker.bindings["API_HOSTNAME"]).toBe(api.app.hostname);
      expect(api.worker.bindings["ROUTE_PREFIX"]).toBe(api.routePrefix);
      expect(api.worker.bindings["ACCESS_AUD"]).toBe(t.frontend.aud);
    }
    expect(new Set(t.apis.map((a) => a.app.aud)).size).toBe(2);
    expect(new Set(t.apis.map((a) => a.identityJwks)).size).toBe(2);
  });

  it("runs each Worker with the Analytics Engine dataset the stack binds, and none without one", async () => {
    expect(t.apis.map((a) => a.worker.analyticsDatasets)).toEqual([{}, {}]);
    const counted = topologyOf(
      await declareStack("apis", { config: { analyticsDataset: "access_bridge" } }),
    );
    expect(counted.apis.map((a) => a.worker.analyticsDatasets)).toEqual([
      { ANALYTICS: { dataset: "access_bridge" } },
      { ANALYTICS: { dataset: "access_bridge" } },
    ]);
  });

  it("lets each API's app admit exactly the service token its own Worker holds", () => {
    const held = t.apis.map((a) => a.worker.bindings["CF_ACCESS_CLIENT_ID"]);
    expect(new Set(held).size).toBe(2);
    t.apis.forEach((api, i) => {
      expect(api.app.access.serviceTokens.map((s) => s.clientId)).toEqual([held[i]]);
      expect(api.app.access.serviceTokens[0]!.clientSecret).toBe(
        api.worker.bindings["CF_ACCESS_CLIENT_SECRET"],
      );
    });
  });

  it("reads the declared front-end app, and each API's own CORS settings", () => {
    expect(t.frontendManagedElsewhere).toBe(false);
    expect(t.frontend.hostname).toBe("www.example.com");
    expect(t.apis.map((a) => a.app.corsHeaders?.allowedHeaders)).toEqual([
      ["content-type"],
      ["content-type", "x-invoice-id"],
    ]);
  });

  it("hands each route prefix to its own API's Worker, and the rest to the front end", () => {
    expect(apiByRoute(t, "www.example.com", "/billing/echo")?.app.hostname).toBe(
      "billing.example.com",
    );
    expect(apiByRoute(t, "www.example.com", "/api/echo")?.app.hostname).toBe("api.example.com");
    expect(apiByRoute(t, "www.example.com", "/billingx")).toBeUndefined();
    expect(apiByRoute(t, "billing.example.com", "/billing/echo")).toBeUndefined();
  });
});

describe("topologyOf, a front end whose Access app is managed elsewhere (frontendAud)", () => {
  it("emulates the front end's app with that aud and the people policy's rules", async () => {
    const declared = await declareStack("dev", { config: { frontendAud } });
    const t = topologyOf(declared);
    expect(t.frontendManagedElsewhere).toBe(true);
    expect(t.frontend).toMatchObject({
      hostname: "www.example.com",
      aud: frontendAud,
      corsHeaders: undefined,
      access: { emails: ["dev@example.com"], emailDomains: ["example.com"], serviceTokens: [] },
    });
    expect(named(declared, "access-bridge-people-policy").inputs["decision"]).toBe("allow");
    expect(t.apis.map((a) => a.worker.bindings["ACCESS_AUD"])).toEqual([frontendAud]);
    expect(declared.resources.map((r) => r.name)).not.toContain("access-bridge-frontend-app");
  });

  it("keeps the declared app on a stack that has one", async () => {
    const declared = await declareStack("dev");
    const t = topologyOf(declared);
    expect(t.frontendManagedElsewhere).toBe(false);
    expect(t.frontend.aud).toBe(named(declared, "access-bridge-frontend-app").state["aud"]);
  });
});

describe("the people policy's rules", () => {
  it("reads what the lab evaluates, and names what it cannot", async () => {
    const declared = await declareStack("rules");
    const { frontend, apis } = topologyOf(declared);
    for (const access of [frontend.access, apis[0]!.app.access]) {
      expect(access).toMatchObject({
        emails: [],
        emailDomains: ["example.com"],
        excludedEmails: ["contractor@example.com"],
        requireMfa: true,
        unemulated: ["include githubOrganization"],
      });
    }
    const lines = peopleLines({ active: () => ({ topology: topologyOf(declared) }) } as never);
    expect(lines).toEqual([
      "  log in as  any address the people policy admits (*@example.com)",
      "  excluded   contractor@example.com",
      "  mfa        the login asks for a second factor: the policy requires authMethod mfa",
      expect.stringMatching(
        /^ {2}not emulated, treated as satisfied .*: include githubOrganization$/,
      ),
    ]);
  });

  it("lets anyone in through policies the stack attaches but does not declare, and says so", async () => {
    const declared = await declareStack("dev", {
      config: { allowedEmails: undefined, allowedEmailDomains: undefined, peoplePolicyIds: ["p1"] },
    });
    const { frontend } = topologyOf(declared);
    expect(frontend.access.unemulated).toEqual(["policy p1 (not declared by this stack)"]);
  });
});

describe("routeFor", () => {
  it("picks the most specific of the routes that match, as Cloudflare does", () => {
    const routes = ["www.example.com/*", "www.example.com/api/*", "*.example.com/*"];
    expect(routeFor(routes, "www.example.com", "/api/echo")).toBe("www.example.com/api/*");
    expect(routeFor(routes, "www.example.com", "/about")).toBe("www.example.com/*");
    expect(routeFor(routes, "shop.example.com", "/api/echo")).toBe("*.example.com/*");
    expect(routeFor(["www.example.com/api/*"], "www.example.com", "/apix")).toBeUndefined();
  });

  it("prefers the longer prefix when two routes on the host nest", () => {
    const routes = ["www.example.com/api/*", "www.example.com/api/billing/*"];
    expect(routeFor(routes, "www.example.com", "/api/billing/x")).toBe(
      "www.example.com/api/billing/*",
    );
    expect(routeFor(routes, "www.example.com", "/api/items")).toBe("www.example.com/api/*");
  });
});

describe("scenarios of a stack with several APIs", () => {
  const config = stackConfig("apis");
  const scenarios = scenariosFor("apis", config);
  const byName = (name: string) => scenarios.find((s) => s.name === name)!;

  it("change every API alike, the ones that set a key of their own included", async () => {
    const origins = topologyOf(
      await declareStack("apis", { config: byName("origin-not-allowed").config }),
    );
    expect(origins.apis.map((a) => a.app.corsHeaders?.allowedOrigins)).toEqual([
      ["https://partner.example.net"],
      ["https://partner.example.net"],
    ]);
    const headers = topologyOf(
      await declareStack("apis", { config: byName("header-not-allowed").config }),
    );
    // Each API loses the header its own preflighted request sends.
    expect(headers.apis.map((a) => a.app.corsHeaders?.allowedHeaders)).toEqual([
      undefined,
      ["content-type"],
    ]);
    expect(byName("header-not-allowed").summary).toContain("content-type and x-invoice-id");
  });

  it("move every API to the guide's other site in the cross-site variant", async () => {
    const t = topologyOf(await declareStack("apis", { config: byName("cross-site").config }));
    expect(t.frontend.hostname).toBe("example.com");
    expect(t.apis.map((a) => [a.app.hostname, a.routePattern])).toEqual([
      ["api.mysite.com", "example.com/api/*"],
      ["billing.mysite.com", "example.com/billing/*"],
    ]);
  });

  it("are each a config the program accepts", async () => {
    for (const s of scenarios) {
      const t = topologyOf(await declareStack("apis", { config: s.config }));
      expect([s.name, t.apis.length]).toEqual([s.name, 2]);
    }
  });
});
