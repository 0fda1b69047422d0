import {
  API_HOSTNAME,
  CLIENT_SECRET,
  claims,
  guideWorker,
  type Harness,
  newSigningKey,
  ourWorker,
  signJwt,
  startWorker,
} from "./harness";

/**
 * The guide's Worker and ours, side by side against the same attacks. Each
 * case states what the guide does (the hole) and checks that ours closes it.
 */
const key = newSigningKey("key-1");
const jwt = signJwt(key);

interface Attack {
  property: string;
  send: (h: Harness) => Promise<Response>;
  api?: Harness["api"];
  networkFailure?: boolean;
  guide: (response: Response, h: Harness) => Promise<void> | void;
  ours: (response: Response, h: Harness) => Promise<void> | void;
}

const refusedWith = (status: number) => (response: Response, h: Harness) => {
  expect(response.status).toBe(status);
  expect(h.apiCalls).toHaveLength(0);
};

const attacks: Attack[] = [
  {
    property: "forwards nothing without an Access assertion",
    send: (h) => h.fetch("/api/x"),
    guide: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls[0]?.headers["cf-access-client-secret"]).toBe(CLIENT_SECRET);
    },
    ours: refusedWith(401),
  },
  {
    property: "forwards nothing with an expired assertion",
    send: (h) => h.fetch("/api/x", { jwt: signJwt(key, claims({ exp: 1 })) }),
    guide: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
    },
    ours: refusedWith(403),
  },
  {
    property: "forwards nothing outside the route prefix",
    send: (h) => h.fetch("/admin/users", { jwt }),
    guide: (_response, h) => {
      expect(h.apiCalls.map((c) => c.url)).toEqual([`https://${API_HOSTNAME}/admin/users`]);
    },
    ours: refusedWith(404),
  },
  {
    property: "refuses a cross-site POST",
    send: (h) =>
      h.fetch("/api/transfer", {
        method: "POST",
        jwt,
        body: "{}",
        headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      }),
    guide: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls.map((c) => c.method)).toEqual(["POST"]);
    },
    ours: refusedWith(403),
  },
  {
    property: "keeps the front end's cookies and the assertion away from the API",
    send: (h) => h.fetch("/api/x", { jwt, headers: { cookie: "session=front-end-secret" } }),
    guide: (_response, h) => {
      expect(h.apiCalls[0]?.headers.cookie).toBe("session=front-end-secret");
      expect(h.apiCalls[0]?.headers["cf-access-jwt-assertion"]).toBe(jwt);
    },
    ours: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("cookie");
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("cf-access-jwt-assertion");
    },
  },
  {
    property: "passes no spoofed host to the API",
    send: (h) => h.fetch("/api/x", { jwt, headers: { "x-forwarded-host": "evil.com" } }),
    guide: (_response, h) => {
      expect(new URL(h.apiCalls[0]!.url).host).toBe(API_HOSTNAME);
      expect(h.apiCalls[0]?.headers["x-forwarded-host"]).toBe("evil.com");
    },
    ours: (_response, h) => {
      expect(new URL(h.apiCalls[0]!.url).host).toBe(API_HOSTNAME);
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("x-forwarded-host");
    },
  },
  {
    property: "sends only its own service token, whatever the client supplies",
    send: (h) =>
      h.fetch("/api/x", {
        jwt,
        headers: { "cf-access-client-secret": "attacker", "cf-access-client-note": "x" },
      }),
    // The guide overwrites the two token headers, but lets other Cf-Access-Client-* through.
    guide: (_response, h) => {
      expect(h.apiCalls[0]?.headers["cf-access-client-secret"]).toBe(CLIENT_SECRET);
      expect(h.apiCalls[0]?.headers["cf-access-client-note"]).toBe("x");
    },
    ours: (_response, h) => {
      expect(h.apiCalls[0]?.headers["cf-access-client-secret"]).toBe(CLIENT_SECRET);
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("cf-access-client-note");
    },
  },
  {
    property: "never hands the service token to the browser",
    send: (h) => h.fetch("/api/debug", { jwt }),
    api: (request) =>
      new Response("ok", {
        headers: { "x-debug-secret": request.headers["cf-access-client-secret"] ?? "" },
      }),
    guide: (response) => {
      expect(response.headers.get("x-debug-secret")).toBe(CLIENT_SECRET);
    },
    ours: (response) => {
      expect(response.status).toBe(200);
      expect(response.headers.has("x-debug-secret")).toBe(false);
    },
  },
  {
    property: "leaks no internal error detail",
    networkFailure: true,
    send: (h) => h.fetch("/api/x", { jwt }),
    guide: async (response) => {
      expect(response.status).toBe(500);
      expect(await response.text()).toMatch(/connection/i);
    },
    ours: async (response) => {
      expect(response.status).toBe(502);
      expect(await response.text()).not.toMatch(/connection|network/i);
    },
  },
];

describe("the guide's Worker beside ours", () => {
  const harnesses: { normal?: Harness; failing?: Harness } = {};
  beforeAll(async () => {
    const variants = { ours: { script: ourWorker() } };
    harnesses.normal = await startWorker({ script: guideWorker(), keys: [key], variants });
    harnesses.failing = await startWorker({
      script: guideWorker(),
      keys: [key],
      variants,
      apiNetworkFailure: true,
    });
  });
  afterAll(async () => {
    for (const h of [harnesses.normal, harnesses.failing]) {
      expect(h?.unexpected).toEqual([]);
      await h?.dispose();
    }
  });

  const cases = attacks.flatMap((a) => [
    ["the guide fails", a.property, a, "guide"] as const,
    ["ours", a.property, a, "ours"] as const,
  ]);
  it.each(cases)("%s: %s", async (_who, _property, attack, which) => {
    const h = (attack.networkFailure ? harnesses.failing : harnesses.normal)!;
    h.reset();
    if (attack.api) h.api = attack.api;
    const send: Harness["fetch"] = (path, init = {}) =>
      h.fetch(path, { ...init, worker: which === "ours" ? "ours" : undefined });
    const response = await attack.send({ ...h, fetch: send });
    await attack[which](response, h);
  });
});
