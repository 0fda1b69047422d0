/** The emulated Access rules the lab's edges apply, tested directly. */
import {
  matchServiceToken,
  personAllowed,
  personDecision,
  unemulatedNote,
} from "../../lab/access-rules";
import { answerPreflight, preflightVary, responseCorsHeaders } from "../../lab/cors";
import { frontendParty } from "../../lab/edges";
import { probeHeader, scenariosFor } from "../../lab/scenarios";
import { routeMatches, type AppAccess, type CorsSettings } from "../../lab/topology";
import { accessClaims, newKeySet, signToken, verifyToken } from "../../lab/tokens";

const cors: CorsSettings = {
  allowedOrigins: ["https://www.example.com"],
  allowedMethods: ["GET", "POST", "OPTIONS"],
  allowedHeaders: ["content-type", "x-requested-with"],
  allowCredentials: true,
  maxAge: 600,
};
const ask = { origin: "https://www.example.com", method: "GET", headers: [] as string[] };

describe("answerPreflight", () => {
  it("answers an allowed origin the way the guide's curl example shows", () => {
    expect(answerPreflight(cors, ask)).toEqual({
      status: 200,
      headers: {
        vary: preflightVary,
        "access-control-allow-origin": "https://www.example.com",
        "access-control-allow-methods": "GET",
        "access-control-allow-credentials": "true",
        "access-control-max-age": "600",
      },
    });
  });

  it("grants no CORS header to an origin that is not allowed", () => {
    expect(answerPreflight(cors, { ...ask, origin: "https://evil.example.net" })).toEqual({
      status: 200,
      headers: { vary: preflightVary },
    });
  });

  it("grants only the requested headers that are allowed", () => {
    const answer = answerPreflight(cors, {
      ...ask,
      method: "POST",
      headers: ["content-type", "x-secret"],
    });
    expect(answer.headers["access-control-allow-headers"]).toBe("content-type");
  });

  it("leaves out allow-credentials when the app does not allow credentials", () => {
    const answer = answerPreflight({ ...cors, allowCredentials: false }, ask);
    expect(answer.headers["access-control-allow-origin"]).toBe("https://www.example.com");
    expect(answer.headers).not.toHaveProperty("access-control-allow-credentials");
  });

  it("grants no method that is not allowed", () => {
    const answer = answerPreflight(cors, { ...ask, method: "DELETE" });
    expect(answer.headers["access-control-allow-origin"]).toBe("https://www.example.com");
    expect(answer.headers).not.toHaveProperty("access-control-allow-methods");
  });

  it("answers * to all origins only without credentials", () => {
    const all = { allowAllOrigins: true, allowedMethods: ["GET"] };
    expect(answerPreflight(all, ask).headers["access-control-allow-origin"]).toBe("*");
    expect(
      answerPreflight({ ...all, allowCredentials: true }, ask).headers[
        "access-control-allow-origin"
      ],
    ).toBe("https://www.example.com");
  });
});

describe("responseCorsHeaders", () => {
  it("echoes an allowed origin with credentials and nothing for others", () => {
    expect(responseCorsHeaders(cors, "https://www.example.com")).toMatchObject({
      "access-control-allow-origin": "https://www.example.com",
      "access-control-allow-credentials": "true",
    });
    expect(responseCorsHeaders(cors, "https://evil.example.net")).toEqual({ vary: "Origin" });
  });
});

const access: AppAccess = {
  emails: ["dev@example.com"],
  emailDomains: ["example.org"],
  serviceTokens: [{ tokenId: "t", clientId: "id.access", clientSecret: "s3cret" }],
};

describe("Access rules", () => {
  it("admits a listed email or an address in a listed domain, and no one else", () => {
    expect(personAllowed(access, "Dev@Example.com")).toBe(true);
    expect(personAllowed(access, "ada@example.org")).toBe(true);
    expect(personAllowed(access, "ada@example.org.evil.net")).toBe(false);
    expect(personAllowed(access, "mallory@example.net")).toBe(false);
  });

  it("matches a service token only with its id and its secret", () => {
    const headers = (id: string, secret: string) =>
      new Headers({ "cf-access-client-id": id, "cf-access-client-secret": secret });
    expect(matchServiceToken(access, headers("id.access", "s3cret"))?.tokenId).toBe("t");
    expect(matchServiceToken(access, headers("id.access", "wrong"))).toBeUndefined();
    expect(
      matchServiceToken(access, new Headers({ "cf-access-client-id": "id.access" })),
    ).toBeUndefined();
  });
});

describe("tokens", () => {
  const keys = newKeySet();

  it("verifies a token for its own app and rejects it for another or from another key set", () => {
    const token = signToken(
      keys,
      accessClaims("team.cloudflareaccess.com", "aud-front", { email: "dev@example.com" }),
    );
    expect(verifyToken(keys, token, "aud-front")).toMatchObject({
      email: "dev@example.com",
      iss: "https://team.cloudflareaccess.com",
      aud: ["aud-front"],
    });
    expect(verifyToken(keys, token, "aud-api")).toBeNull();
    expect(verifyToken(newKeySet(), token, "aud-front")).toBeNull();
  });

  it("rejects an expired token", () => {
    const token = signToken(
      keys,
      accessClaims("team.cloudflareaccess.com", "aud", { email: "a@b.c" }, -60),
    );
    expect(verifyToken(keys, token, "aud")).toBeNull();
  });
});

describe("routeMatches", () => {
  it("matches the route's own paths as Cloudflare's wildcard does", () => {
    expect(routeMatches("www.example.com/api/*", "www.example.com", "/api/echo")).toBe(true);
    expect(routeMatches("www.example.com/api/*", "www.example.com", "/api/")).toBe(true);
    expect(routeMatches("www.example.com/api/*", "www.example.com", "/apix")).toBe(false);
    expect(routeMatches("www.example.com/api/*", "api.example.com", "/api/echo")).toBe(false);
  });
});

describe("frontendParty", () => {
  const route = "www.example.com/api/*";
  it.each([
    ["/api/things", "worker"],
    ["/__lab/", "lab"],
    ["/__lab", "lab"],
    ["/__lab/state", "lab"],
    ["/cdn-cgi/access/authorized", "access"],
    ["/", "origin"],
    ["/src/main.tsx", "origin"],
    ["/apix", "origin"],
    ["/__labs", "origin"],
  ])("gives %s to the %s", (path, party) => {
    expect(frontendParty(route, "www.example.com", path)).toBe(party);
  });

  it("keeps the lab's path for the lab even when the route takes the whole host", () => {
    expect(frontendParty("www.example.com/*", "www.example.com", "/__lab/")).toBe("lab");
    expect(frontendParty("www.example.com/*", "www.example.com", "/")).toBe("worker");
  });
});

describe("scenarios", () => {
  const config = { corsAllowedHeaders: ["content-type", "x-requested-with"] };

  it("probes with the first allowed header that is not content-type", () => {
    expect(probeHeader(config)).toBe("x-requested-with");
    expect(probeHeader({ corsAllowedHeaders: ["content-type"] })).toBeNull();
  });

  it("removes exactly the probed header in the header-not-allowed variant", () => {
    const variant = scenariosFor("dev", config).find((s) => s.name === "header-not-allowed");
    expect(variant?.config).toEqual({ corsAllowedHeaders: ["content-type"] });
  });

  it("leaves out, in front of the user's API, the scenario about the demo API's own policy", () => {
    const demo = scenariosFor("dev", config).map((s) => s.name);
    const own = scenariosFor("dev", config, { ownApi: true }).map((s) => s.name);
    expect(demo).toContain("preflight-origin-refuses");
    expect(own).toEqual(demo.filter((name) => name !== "preflight-origin-refuses"));
  });

  it("adds the guide's cross-site hosts as a scenario of a same-site stack, whatever its name", () => {
    const sameSite = { ...config, frontendHostname: "www.shop.test", apiHostname: "api.shop.test" };
    const crossSite = scenariosFor("staging", sameSite).find((s) => s.name === "cross-site");
    expect(crossSite).toMatchObject({
      stack: "staging",
      config: {
        frontendHostname: "example.com",
        apiHostname: "api.mysite.com",
        corsAllowedOrigins: ["https://example.com"],
      },
    });
    const already = { ...config, frontendHostname: "shop.test", apiHostname: "api.shop-api.test" };
    expect(scenariosFor("prod", already).map((s) => s.name)).not.toContain("cross-site");
  });
});

describe("the people policy's rules", () => {
  const rules: AppAccess = {
    emails: [],
    emailDomains: ["example.com"],
    excludedEmails: ["contractor@example.com"],
    requireMfa: true,
    serviceTokens: [],
  };

  it("refuses an excluded address before anything else, with why", () => {
    expect(personDecision(rules, "Contractor@example.com", ["pwd", "mfa"])).toEqual({
      allowed: false,
      reason: "excluded",
      why: "Contractor@example.com is excluded by the app's policy",
    });
  });

  it("requires the second factor the policy asks for", () => {
    expect(personDecision(rules, "ada@example.com", ["pwd"])).toMatchObject({
      allowed: false,
      reason: "mfa",
    });
    expect(personAllowed(rules, "ada@example.com", ["pwd", "mfa"])).toBe(true);
    expect(personAllowed(rules, "mallory@example.net", ["pwd", "mfa"])).toBe(false);
  });

  it("admits anyone through an everyone include, or one it cannot evaluate, and says so", () => {
    expect(personAllowed({ ...access, everyone: true }, "mallory@example.net")).toBe(true);
    const github: AppAccess = { ...access, unemulated: ["include githubOrganization"] };
    expect(personAllowed(github, "mallory@example.net")).toBe(true);
    expect(unemulatedNote(github)).toMatch(/treated as satisfied .*: include githubOrganization$/);
    // A require or exclude it cannot evaluate is met, and keeps nobody out.
    const narrowing: AppAccess = {
      ...access,
      unemulated: ["require devicePosture", "exclude geo"],
    };
    expect(personAllowed(narrowing, "dev@example.com")).toBe(true);
    expect(personAllowed(narrowing, "mallory@example.net")).toBe(false);
  });
});
