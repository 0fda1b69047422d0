import { ConfigError, RawConfig, validateConfig } from "../../infra/config";
import {
  checkDatasetName,
  checkDuration,
  checkEmail,
  checkEmailDomain,
  checkHeaderName,
  checkHostname,
  checkMethod,
  checkOrigin,
  checkRate,
  checkRoutePrefix,
  checkTeamDomain,
} from "../../infra/validate";

const valid: RawConfig = {
  accountId: "00000000000000000000000000000de0",
  frontendZoneId: "00000000000000000000000000000de1",
  frontendHostname: "www.example.com",
  apiHostname: "api.example.com",
  accessTeamDomain: "example-dev.cloudflareaccess.com",
  allowedEmailDomains: '["example.com"]',
};

/** The problems validateConfig reports for a change to a valid config. */
function problemsWith(change: RawConfig, stack = "dev"): string[] {
  const raw: RawConfig = { ...valid, ...change };
  for (const key of Object.keys(change) as (keyof RawConfig)[]) {
    if (change[key] === undefined) delete raw[key];
  }
  try {
    validateConfig(raw, stack);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("validateConfig accepted the config");
}

describe("validateConfig", () => {
  it("accepts a minimal config and fills in the documented defaults", () => {
    const config = validateConfig(valid, "dev");
    expect(config.preflight).toBe("cloudflare");
    expect(config).toMatchObject({
      corsAllowedOrigins: ["https://www.example.com"],
      corsAllowedMethods: ["GET", "POST", "OPTIONS"],
      corsAllowedHeaders: [],
      corsAllowCredentials: true,
      corsMaxAge: 600,
      alertEmails: [],
      adopt: {},
    });
    expect(config.routePrefix).toBe("/api");
    expect(config.stripRoutePrefix).toBe(false);
    expect(config.serviceTokenSecretVersion).toBe(1);
    expect(config.protect).toBe(false);
  });

  it("reads an empty corsAllowedOrigins, the Pulumi.yaml default, as the front end's origin", () => {
    const config = validateConfig({ ...valid, corsAllowedOrigins: "[]" }, "dev");
    expect(config.corsAllowedOrigins).toEqual(["https://www.example.com"]);
  });

  it("protects the prod stack unless told otherwise", () => {
    expect(validateConfig(valid, "prod").protect).toBe(true);
    expect(validateConfig({ ...valid, protect: "false" }, "prod").protect).toBe(false);
    expect(validateConfig({ ...valid, protect: "true" }, "dev").protect).toBe(true);
  });

  it("normalises input that clearly means something valid", () => {
    const config = validateConfig(
      {
        ...valid,
        frontendHostname: "WWW.Example.com",
        corsAllowedOrigins: '["https://www.example.com/", "http://localhost:5173"]',
        corsAllowedMethods: '["get", "post"]',
        routePrefix: "api/v1/",
        allowedEmailDomains: '["@example.com"]',
      },
      "dev",
    );
    expect(config.frontendHostname).toBe("www.example.com");
    expect(config.corsAllowedOrigins).toEqual(["https://www.example.com", "http://localhost:5173"]);
    expect(config.corsAllowedMethods).toEqual(["GET", "POST"]);
    expect(config.routePrefix).toBe("/api/v1");
    expect(config.allowedEmailDomains).toEqual(["example.com"]);
  });

  it("rejects a hostname that is not one", () => {
    expect(problemsWith({ frontendHostname: "not a host" })).toEqual([
      expect.stringMatching(/^access-bridge:frontendHostname: must be a hostname/),
    ]);
  });

  it("rejects a URL given where a hostname is meant", () => {
    expect(problemsWith({ apiHostname: "https://api.example.com/v1" })).toEqual([
      expect.stringMatching(
        /^access-bridge:apiHostname: must be a hostname only, without scheme or path/,
      ),
    ]);
  });

  it("rejects the same host for both apps", () => {
    expect(problemsWith({ apiHostname: "www.example.com" })).toEqual([
      "access-bridge:apiHostname: must differ from frontendHostname (both are www.example.com)",
    ]);
  });

  it("rejects an origin that is not scheme://host[:port]", () => {
    expect(problemsWith({ corsAllowedOrigins: '["https://www.example.com/app"]' })).toEqual([
      expect.stringMatching(
        /^access-bridge:corsAllowedOrigins: must be an origin scheme:\/\/host\[:port\]/,
      ),
    ]);
  });

  it('rejects "*" (all origins) together with credentials', () => {
    expect(problemsWith({ corsAllowedOrigins: '["*"]' })).toEqual([
      expect.stringMatching(
        /^access-bridge:corsAllowedOrigins: "\*" \(all origins\) cannot be combined with corsAllowCredentials/,
      ),
    ]);
    expect(
      validateConfig(
        { ...valid, corsAllowedOrigins: '["*"]', corsAllowCredentials: "false" },
        "dev",
      ),
    ).toMatchObject({ corsAllowedOrigins: ["*"], corsAllowCredentials: false });
  });

  it('rejects "*" mixed with other entries', () => {
    expect(problemsWith({ corsAllowedHeaders: '["*", "content-type"]' })).toEqual([
      'access-bridge:corsAllowedHeaders: "*" means all and cannot be combined with other entries',
    ]);
  });

  it("rejects an unknown method", () => {
    expect(problemsWith({ corsAllowedMethods: '["GET", "FETCH"]' })).toEqual([
      expect.stringMatching(
        /^access-bridge:corsAllowedMethods: "FETCH" is not a method Access accepts/,
      ),
    ]);
  });

  it("rejects a header name that is not an RFC 9110 token", () => {
    expect(problemsWith({ corsAllowedHeaders: '["content type"]' })).toEqual([
      'access-bridge:corsAllowedHeaders: "content type" is not a valid header name',
    ]);
  });

  it.each(["90000", "-2", "1.5", "ten"])("rejects corsMaxAge %s, outside -1..86400", (maxAge) => {
    expect(problemsWith({ corsMaxAge: maxAge })).toEqual([
      `access-bridge:corsMaxAge: must be an integer between -1 and 86400, got "${maxAge}"`,
    ]);
  });

  it("accepts corsMaxAge at both ends of its range", () => {
    expect(validateConfig({ ...valid, corsMaxAge: "-1" }, "dev").corsMaxAge).toBe(-1);
    expect(validateConfig({ ...valid, corsMaxAge: "86400" }, "dev").corsMaxAge).toBe(86400);
  });

  it("rejects an unknown preflight value", () => {
    expect(problemsWith({ preflight: "both" })).toEqual([
      'access-bridge:preflight: must be one of "cloudflare" or "origin", got "both"',
    ]);
  });

  it("rejects a config that lets nobody log in", () => {
    expect(problemsWith({ allowedEmails: "[]", allowedEmailDomains: "[]" })).toEqual([
      expect.stringMatching(/^access-bridge:allowedEmails: nobody could log in/),
    ]);
    expect(problemsWith({ allowedEmailDomains: undefined })).toHaveLength(1);
  });

  it("rejects a bad email address", () => {
    expect(problemsWith({ allowedEmails: '["alice"]' })).toEqual([
      'access-bridge:allowedEmails: "alice" is not an email address',
    ]);
  });

  it.each([
    "accountId",
    "frontendHostname",
    "frontendZoneId",
    "apiHostname",
    "accessTeamDomain",
  ] as const)("rejects a missing required key: %s", (key) => {
    expect(problemsWith({ [key]: undefined })).toEqual([
      `access-bridge:${key}: is required; set it with \`pulumi config set ${key} <value>\``,
    ]);
  });

  it("rejects an account id that is not a Cloudflare id", () => {
    expect(problemsWith({ accountId: "https://dash.cloudflare.com/abc" })).toEqual([
      'access-bridge:accountId: must be a Cloudflare id (32 hex characters, from the dashboard\'s Overview page), got "https://dash.cloudflare.com/abc"',
    ]);
  });

  it("accepts a placeholder id, so example stacks run", () => {
    expect(validateConfig({ ...valid, accountId: "fake-account-id" }, "dev").accountId).toBe(
      "fake-account-id",
    );
  });

  it("rejects a team domain that is not <team>.cloudflareaccess.com", () => {
    expect(problemsWith({ accessTeamDomain: "example.com" })).toEqual([
      'access-bridge:accessTeamDomain: must be <team>.cloudflareaccess.com, got "example.com"',
    ]);
  });

  it("rejects a duration Access cannot parse", () => {
    expect(problemsWith({ sessionDuration: "1 day" })).toEqual([
      expect.stringMatching(/^access-bridge:sessionDuration: must be a duration like 24h/),
    ]);
  });

  it("rejects a secret version below 1 and a negative grace period", () => {
    expect(
      problemsWith({ serviceTokenSecretVersion: "0", serviceTokenRotationGraceHours: "-1" }),
    ).toEqual([
      'access-bridge:serviceTokenSecretVersion: must be an integer >= 1, got "0"',
      'access-bridge:serviceTokenRotationGraceHours: must be an integer between 1 and 8760, got "-1"',
    ]);
  });

  it("refuses a rotation grace of 0, which would leave calls failing until the Worker has the new secret", () => {
    const [problem] = problemsWith({ serviceTokenRotationGraceHours: "0" });
    expect(problem).toMatch(/^access-bridge:serviceTokenRotationGraceHours: must be at least 1/);
    expect(problem).toMatch(/rotate twice/);
    expect(validateConfig({ ...valid, serviceTokenRotationGraceHours: "1" }, "dev")).toMatchObject({
      serviceTokenRotationGraceHours: 1,
    });
  });

  it("names a key it does not know and the closest one it does, before anything else", () => {
    expect(
      problemsWith({ corsAllowedHeader: '["content-type"]', accessTeamDomain2: "x" } as RawConfig),
    ).toEqual([
      "access-bridge:corsAllowedHeader: is not a key of this program; did you mean corsAllowedHeaders? (every key is in Pulumi.yaml)",
      "access-bridge:accessTeamDomain2: is not a key of this program; did you mean accessTeamDomain? (every key is in Pulumi.yaml)",
    ]);
  });

  it("reads the keys set in the namespace when told them, so a typo is caught even if unread", () => {
    expect(() => validateConfig(valid, "dev", [], [...Object.keys(valid), "protectt"])).toThrow(
      /access-bridge:protectt: is not a key of this program; did you mean protect\?/,
    );
  });

  it("takes alert emails as a list of addresses, and refuses what is not one", () => {
    expect(validateConfig(valid, "dev").alertEmails).toEqual([]);
    expect(
      validateConfig({ ...valid, alertEmails: '["ops@example.com"]' }, "dev").alertEmails,
    ).toEqual(["ops@example.com"]);
    expect(problemsWith({ alertEmails: '["ops"]' })).toEqual([
      'access-bridge:alertEmails: "ops" is not an email address',
    ]);
  });

  it("turns Workers Logs on for every request and binds no dataset by default", () => {
    const config = validateConfig(valid, "dev");
    expect([config.workerLogs, config.workerLogsSampleRate, config.analyticsDataset]).toEqual([
      true,
      1,
      "",
    ]);
  });

  it("reads the sampling rate as text, as config arrives, and refuses one outside (0, 1]", () => {
    expect(validateConfig({ ...valid, workerLogsSampleRate: "0.05" }, "dev")).toMatchObject({
      workerLogsSampleRate: 0.05,
    });
    for (const rate of ["0", "1.5", "-0.1", "ten", "NaN"]) {
      expect(problemsWith({ workerLogsSampleRate: rate })).toEqual([
        `access-bridge:workerLogsSampleRate: must be a number above 0 and at most 1 (0.1 keeps one in ten), got "${rate}"`,
      ]);
    }
  });

  it("takes an Analytics Engine dataset name and refuses what a query could not name", () => {
    expect(validateConfig({ ...valid, analyticsDataset: "access_bridge" }, "dev")).toMatchObject({
      analyticsDataset: "access_bridge",
    });
    for (const name of ["access bridge", "1st", "a.b", 'x"y']) {
      expect(problemsWith({ analyticsDataset: name })).toEqual([
        expect.stringMatching(
          /^access-bridge:analyticsDataset: must be an Analytics Engine dataset name/,
        ),
      ]);
    }
  });

  it("rejects a non-boolean protect", () => {
    expect(problemsWith({ protect: "yes" })).toEqual([
      'access-bridge:protect: must be true or false, got "yes"',
    ]);
  });

  it("lists every problem at once, one line per key", () => {
    const problems = problemsWith({
      corsMaxAge: "90000",
      preflight: "nobody",
      apiHostname: undefined,
    });
    expect(problems).toEqual([
      expect.stringMatching(/^access-bridge:apiHostname: is required/),
      expect.stringMatching(/^access-bridge:preflight: /),
      expect.stringMatching(/^access-bridge:corsMaxAge: /),
    ]);
    const error = new ConfigError(problems);
    expect(error.message.split("\n")).toHaveLength(4);
  });

  it("never echoes the value of a key set as a secret", () => {
    let message = "";
    try {
      validateConfig({ ...valid, accountId: "hunter2 secret value" }, "dev", ["accountId"]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("access-bridge:accountId: is not valid");
    expect(message).not.toContain("hunter2");
  });
});

describe("validators", () => {
  it.each([
    ["example.com", true],
    ["a-b.example.co.uk", true],
    ["localhost", false],
    ["-bad.example.com", false],
    ["10.0.0.1", false],
    ["exa mple.com", false],
    ["example.com/path", false],
    ["example.com..", false],
  ])("checkHostname(%s) -> %s", (value, accepted) => {
    expect(checkHostname(value).ok).toBe(accepted);
  });

  it("drops the trailing dot of a fully qualified name", () => {
    expect(checkHostname("API.Example.com.")).toEqual({ ok: true, value: "api.example.com" });
  });

  it.each([
    ["https://app.example.com", "https://app.example.com"],
    ["https://app.example.com/", "https://app.example.com"],
    ["HTTP://App.Example.com:8080", "http://app.example.com:8080"],
    ["http://localhost:5173", "http://localhost:5173"],
  ])("checkOrigin(%s) normalises to %s", (value, expected) => {
    expect(checkOrigin(value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    "app.example.com",
    "https://app.example.com/x",
    "ftp://app.example.com",
    "https://a.example.com:99999",
  ])("checkOrigin rejects %s", (value) => {
    expect(checkOrigin(value).ok).toBe(false);
  });

  it("accepts exactly the methods Access accepts", () => {
    for (const m of [
      "GET",
      "POST",
      "HEAD",
      "PUT",
      "DELETE",
      "CONNECT",
      "OPTIONS",
      "TRACE",
      "PATCH",
    ]) {
      expect(checkMethod(m)).toEqual({ ok: true, value: m });
    }
    expect(checkMethod("PROPFIND").ok).toBe(false);
  });

  it("accepts RFC 9110 tokens as header names", () => {
    expect(checkHeaderName("X-Requested-With")).toEqual({ ok: true, value: "x-requested-with" });
    expect(checkHeaderName("bad:header").ok).toBe(false);
  });

  it("checks emails and email domains", () => {
    expect(checkEmail("Alice@Example.com")).toEqual({ ok: true, value: "Alice@example.com" });
    expect(checkEmail("a@b@example.com").ok).toBe(false);
    expect(checkEmailDomain("@example.com")).toEqual({ ok: true, value: "example.com" });
    expect(checkEmailDomain("https://example.com").ok).toBe(false);
  });

  it("checks Go durations", () => {
    expect(checkDuration("2h45m").ok).toBe(true);
    expect(checkDuration("300ms").ok).toBe(true);
    expect(checkDuration("0h").ok).toBe(false);
    expect(checkDuration("1d").ok).toBe(false);
  });

  it("checks the team domain", () => {
    expect(checkTeamDomain("Team.cloudflareaccess.com")).toEqual({
      ok: true,
      value: "team.cloudflareaccess.com",
    });
    expect(checkTeamDomain("https://team.cloudflareaccess.com").ok).toBe(false);
    expect(checkTeamDomain("team.example.com").ok).toBe(false);
  });

  it("checks a sampling rate: above 0, at most 1, as a number or as text", () => {
    expect([1, "1", 0.5, "0.001"].map((v) => checkRate(v))).toEqual([
      { ok: true, value: 1 },
      { ok: true, value: 1 },
      { ok: true, value: 0.5 },
      { ok: true, value: 0.001 },
    ]);
    for (const v of [0, "0", 1.01, -1, "", "1/2", Infinity, true]) {
      expect([v, checkRate(v).ok]).toEqual([v, false]);
    }
  });

  it("checks a dataset name, empty meaning none", () => {
    expect(checkDatasetName("")).toEqual({ ok: true, value: "" });
    expect(checkDatasetName(" access_bridge ")).toEqual({ ok: true, value: "access_bridge" });
    expect(checkDatasetName("example-dataset")).toEqual({ ok: true, value: "example-dataset" });
    for (const v of ["-x", "9lives", "a b", "a;b", "a/b", 42]) {
      expect([v, checkDatasetName(v).ok]).toEqual([v, false]);
    }
  });

  it("normalises and checks the route prefix", () => {
    expect(checkRoutePrefix("api")).toEqual({ ok: true, value: "/api" });
    expect(checkRoutePrefix("/api/")).toEqual({ ok: true, value: "/api" });
    expect(checkRoutePrefix("/").ok).toBe(false);
    expect(checkRoutePrefix("/api/*").ok).toBe(false);
  });
});
