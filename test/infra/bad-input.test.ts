import { declareStack, resourcesFromLastRun } from "../support/stacks";

/** Each mistake the program must refuse, the key its message names, and what it says. */
const cases: [string, Record<string, unknown>, string, RegExp][] = [
  [
    "a hostname that is not one",
    { frontendHostname: "not a host" },
    "frontendHostname",
    /must be a hostname/,
  ],
  [
    "a URL given as a hostname",
    { apiHostname: "https://api.example.com" },
    "apiHostname",
    /without scheme or path/,
  ],
  [
    "the same host for both apps",
    { apiHostname: "WWW.example.com" },
    "apiHostname",
    /must differ from frontendHostname/,
  ],
  [
    "an origin with a path",
    { corsAllowedOrigins: ["https://www.example.com/app"] },
    "corsAllowedOrigins",
    /scheme:\/\/host\[:port\]/,
  ],
  [
    "an origin without a scheme",
    { corsAllowedOrigins: ["www.example.com"] },
    "corsAllowedOrigins",
    /scheme:\/\/host\[:port\]/,
  ],
  [
    '"*" origins with credentials',
    { corsAllowedOrigins: ["*"] },
    "corsAllowedOrigins",
    /corsAllowCredentials/,
  ],
  [
    "an unknown method",
    { corsAllowedMethods: ["GET", "FETCH"] },
    "corsAllowedMethods",
    /"FETCH" is not a method/,
  ],
  ["corsMaxAge above 86400", { corsMaxAge: 86401 }, "corsMaxAge", /between -1 and 86400/],
  ["corsMaxAge below -1", { corsMaxAge: -2 }, "corsMaxAge", /between -1 and 86400/],
  ["an unknown preflight value", { preflight: "browser" }, "preflight", /"cloudflare" or "origin"/],
  [
    "nobody allowed to log in",
    { allowedEmails: [], allowedEmailDomains: [] },
    "allowedEmails",
    /nobody could log in/,
  ],
  ["a missing accountId", { accountId: undefined }, "accountId", /is required/],
  [
    "a missing frontendHostname",
    { frontendHostname: undefined },
    "frontendHostname",
    /is required/,
  ],
  ["a missing frontendZoneId", { frontendZoneId: undefined }, "frontendZoneId", /is required/],
  ["a missing apiHostname", { apiHostname: undefined }, "apiHostname", /is required/],
  [
    "a sampling rate of 0",
    { workerLogsSampleRate: 0 },
    "workerLogsSampleRate",
    /must be a number above 0 and at most 1/,
  ],
  [
    "a sampling rate above 1",
    { workerLogsSampleRate: 1.5 },
    "workerLogsSampleRate",
    /must be a number above 0 and at most 1 .*got "1.5"/,
  ],
  [
    "a dataset name a query could not name",
    { analyticsDataset: "access bridge" },
    "analyticsDataset",
    /must be an Analytics Engine dataset name/,
  ],
  [
    "a missing accessTeamDomain",
    { accessTeamDomain: undefined },
    "accessTeamDomain",
    /is required/,
  ],
];

describe("the program given bad config", () => {
  it.each(cases)(
    "refuses %s, naming the key, before declaring anything",
    async (_, config, key, what) => {
      const run = declareStack("dev", { config });
      await expect(run).rejects.toMatchObject({ name: "ConfigError" });
      const message = await run.then(
        () => "",
        (error: Error) => error.message,
      );
      const line = message.split("\n").find((l) => l.includes(`access-bridge:${key}:`));
      expect(line).toMatch(what);
      expect(resourcesFromLastRun()).toEqual([]);
    },
  );

  it("lists every bad key at once, each with what is wrong", async () => {
    await expect(
      declareStack("dev", { config: { corsMaxAge: 90000, apiHostname: "www.example.com" } }),
    ).rejects.toMatchObject({
      problems: [
        "access-bridge:apiHostname: must differ from frontendHostname (both are www.example.com)",
        'access-bridge:corsMaxAge: must be an integer between -1 and 86400, got "90000"',
      ],
    });
    expect(resourcesFromLastRun()).toEqual([]);
  });

  it("declares the stack once the mistake is fixed, so the cases above fail for their own reason", async () => {
    const stack = await declareStack("dev", {
      config: { corsMaxAge: 86400, apiHostname: "api.example.com" },
    });
    expect(stack.resources.length).toBeGreaterThan(5);
    expect(resourcesFromLastRun()).toBe(stack.resources);
  });
});
