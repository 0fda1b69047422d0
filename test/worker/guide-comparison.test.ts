import {
  API_HOSTNAME,
  CLIENT_ID,
  CLIENT_SECRET,
  claims,
  FRONTEND,
  guideWorker,
  type Harness,
  newSigningKey,
  ourWorker,
  rawFrontendRequest,
  REDECODED_TRAVERSALS,
  signJwt,
  startWorker,
} from "./harness";
import { exchange, expectRefused, startSockets, type SocketHarness } from "./sockets";

/**
 * The guide's Worker and ours, side by side against the same attacks. Each
 * case states what the guide does (the hole) and checks that ours closes it.
 */
const key = newSigningKey("key-1");
const stranger = newSigningKey("key-stranger");
const jwt = signJwt(key);

/**
 * A request with its path exactly as written and any method, as a `Response`.
 * Each attack's `send` gets a harness whose `fetch` already targets the
 * Worker under test; this reaches the same Worker.
 */
async function raw(
  h: Harness,
  path: string,
  headers: Record<string, string>,
  method = "GET",
): Promise<Response> {
  const answer = await rawFrontendRequest(h, target.get(h), path, headers, method);
  const responseHeaders = Object.entries(answer.headers).flatMap(([name, value]) =>
    typeof value === "string" ? [[name, value] as [string, string]] : [],
  );
  return new Response(answer.body, { status: answer.status, headers: responseHeaders });
}

/** Each raw path sent with a valid assertion, one after another: their statuses as a JSON list. */
async function statusesOf(h: Harness, paths: string[]): Promise<Response> {
  const statuses = [];
  for (const path of paths) {
    statuses.push((await raw(h, path, { "cf-access-jwt-assertion": jwt })).status);
  }
  return new Response(JSON.stringify(statuses));
}

/** The variant each per-test harness view sends to (`undefined`: the guide, the main Worker). */
const target = new WeakMap<Harness, string | undefined>();

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

/**
 * Client-sent headers an API would trust (lower-case names, as they arrive):
 * the guide passes each on; ours passes none, and names the verified user.
 */
function passesNoneOf(property: string, spoofed: Record<string, string>): Attack {
  return {
    property,
    send: (h) => raw(h, "/api/x", { "cf-access-jwt-assertion": jwt, ...spoofed }),
    guide: (_response, h) => {
      expect(h.apiCalls[0]?.headers).toMatchObject(spoofed);
    },
    ours: (response, h) => {
      expect(response.status).toBe(200);
      const headers = h.apiCalls[0]!.headers;
      expect(headers["x-access-bridge-user-email"]).toBe("ada@mysite.com");
      for (const name of Object.keys(spoofed)) expect(headers).not.toHaveProperty(name);
    },
  };
}

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

/** The hardening cases: what an attack review found reaching the API or the browser. */
const hardening: Attack[] = [
  {
    property: "lets no underscore spelling speak for the verified user or the service token",
    send: (h) =>
      raw(h, "/api/x", {
        "cf-access-jwt-assertion": jwt,
        X_Access_Bridge_User_Email: "admin@mysite.com",
        cf_access_client_id: "attacker-id",
      }),
    guide: (_response, h) => {
      expect(h.apiCalls[0]?.headers["x_access_bridge_user_email"]).toBe("admin@mysite.com");
      expect(h.apiCalls[0]?.headers["cf_access_client_id"]).toBe("attacker-id");
    },
    ours: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]?.headers["x-access-bridge-user-email"]).toBe("ada@mysite.com");
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("x_access_bridge_user_email");
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("cf_access_client_id");
    },
  },
  {
    property: "forwards no method outside GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    send: (h) => raw(h, "/api/x", { "cf-access-jwt-assertion": jwt }, "PROPFIND"),
    guide: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls.map((c) => c.method)).toEqual(["PROPFIND"]);
      expect(h.apiCalls[0]?.headers["cf-access-client-secret"]).toBe(CLIENT_SECRET);
    },
    ours: refusedWith(405),
  },
  {
    property: "sends no TRACE, which an API may echo with the service token in the body",
    // The API stand-in that accepts any method records the request, then drops the connection.
    networkFailure: true,
    send: (h) => raw(h, "/api/x", { "cf-access-jwt-assertion": jwt }, "TRACE"),
    guide: (_response, h) => {
      expect(h.apiCalls.map((c) => c.method)).toEqual(["TRACE"]);
      expect(h.apiCalls[0]?.headers["cf-access-client-secret"]).toBe(CLIENT_SECRET);
    },
    ours: refusedWith(405),
  },
  {
    property: "forwards no path that leaves the prefix once ; parameters are read",
    send: (h) => raw(h, "/api/..;/admin", { "cf-access-jwt-assertion": jwt }),
    guide: (_response, h) => {
      expect(h.apiCalls.map((c) => c.url)).toEqual([`https://${API_HOSTNAME}/api/..;/admin`]);
    },
    ours: refusedWith(404),
  },
  {
    property: "forwards no double-encoded, overlong, %u or full-width traversal",
    send: (h) =>
      statusesOf(h, [
        "/api/%252e%252e%252fadmin",
        "/api/%c0%ae%c0%ae/admin",
        "/api/%u002e%u002e/admin",
        "/api/%ef%bc%8e%ef%bc%8e/admin",
      ]),
    guide: async (response, h) => {
      expect(await response.json()).toEqual([200, 200, 200, 200]);
      expect(h.apiCalls).toHaveLength(4);
    },
    ours: async (response, h) => {
      expect(await response.json()).toEqual([404, 404, 404, 404]);
      expect(h.apiCalls).toHaveLength(0);
    },
  },
  passesNoneOf("passes no client-sent forwarding, method-override or Access headers", {
    "x-forwarded-proto": "http",
    "x-forwarded-for": "10.0.0.1",
    "x-original-uri": "/admin",
    "x-real-ip": "10.0.0.1",
    "x-http-method-override": "DELETE",
    "cf-access-authenticated-user-email": "admin@mysite.com",
  }),
  {
    property: "passes no reflective CORS to the browser",
    // The API reflects whatever Origin it is sent.
    send: (h) => h.fetch("/api/x", { jwt }),
    api: () =>
      new Response("{}", {
        headers: {
          "access-control-allow-origin": "https://evil.example",
          "access-control-allow-credentials": "true",
        },
      }),
    guide: (response) => {
      expect(response.headers.get("access-control-allow-origin")).toBe("https://evil.example");
      expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    },
    ours: (response) => {
      expect(response.status).toBe(200);
      expect(response.headers.has("access-control-allow-origin")).toBe(false);
      expect(response.headers.has("access-control-allow-credentials")).toBe(false);
    },
  },
  {
    property: "verifies no padded or oversized spelling of an assertion",
    send: async (h) => {
      const oversized = signJwt(key, claims({ pad: "x".repeat(10_000) }));
      const statuses = [];
      for (const assertion of [`${jwt}==`, oversized]) {
        statuses.push((await raw(h, "/api/x", { "cf-access-jwt-assertion": assertion })).status);
      }
      return new Response(JSON.stringify(statuses));
    },
    guide: async (response, h) => {
      expect(await response.json()).toEqual([200, 200]);
      expect(h.apiCalls).toHaveLength(2);
    },
    ours: async (response, h) => {
      expect(await response.json()).toEqual([403, 403]);
      expect(h.apiCalls).toHaveLength(0);
    },
  },
  {
    property: "turns a burst of forged kids into no API call and at most one keys fetch",
    send: async (h) => {
      const before = h.certsFetches;
      const tokens = Array.from({ length: 40 }, (_, i) =>
        signJwt({ ...stranger, kid: `forged-${i}` }),
      );
      const responses = await Promise.all(tokens.map((t) => h.fetch("/api/x", { jwt: t })));
      return new Response(
        JSON.stringify({
          statuses: [...new Set(responses.map((r) => r.status))],
          certsFetches: h.certsFetches - before,
        }),
      );
    },
    guide: async (response, h) => {
      expect(await response.json()).toEqual({ statuses: [200], certsFetches: 0 });
      expect(h.apiCalls).toHaveLength(40);
    },
    ours: async (response, h) => {
      const { statuses, certsFetches } = (await response.json()) as {
        statuses: number[];
        certsFetches: number;
      };
      expect(statuses).toEqual([403]);
      expect(certsFetches).toBeLessThanOrEqual(1);
      expect(h.apiCalls).toHaveLength(0);
    },
  },
  {
    property: "forwards no assertion that names neither a person nor a service token",
    send: (h) => h.fetch("/api/x", { jwt: signJwt(key, claims({ email: undefined })) }),
    guide: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
    },
    ours: refusedWith(403),
  },
  {
    property: "names a service token by its common name, not as an anonymous person",
    send: (h) =>
      h.fetch("/api/x", {
        jwt: signJwt(key, claims({ email: undefined, common_name: "ci.access" })),
      }),
    guide: (_response, h) => {
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("x-access-bridge-common-name");
    },
    ours: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls[0]?.headers["x-access-bridge-common-name"]).toBe("ci.access");
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("x-access-bridge-user-email");
    },
  },
  {
    property: "hands the browser no upper-cased token, nor one inside a header name",
    send: (h) => h.fetch("/api/x", { jwt }),
    api: () =>
      new Response("ok", {
        headers: { "x-echo": CLIENT_SECRET.toUpperCase(), [`x-${CLIENT_ID}`]: "1", "x-api": "1" },
      }),
    guide: (response) => {
      expect(response.headers.get("x-echo")).toBe(CLIENT_SECRET.toUpperCase());
      expect(response.headers.has(`x-${CLIENT_ID}`)).toBe(true);
    },
    ours: (response) => {
      expect(response.headers.get("x-api")).toBe("1");
      expect(response.headers.has("x-echo")).toBe(false);
      expect(response.headers.has(`x-${CLIENT_ID}`)).toBe(false);
    },
  },
  {
    property: "sends the browser to no spelling of the API host",
    send: (h) => h.fetch("/api/x", { jwt }),
    api: () =>
      new Response(null, {
        status: 302,
        headers: {
          location: `https://${API_HOSTNAME}./api/next`,
          "content-location": `https://${API_HOSTNAME}/api/x`,
          refresh: `5; url=https:/\t/${API_HOSTNAME}/api/later`,
        },
      }),
    guide: (response) => {
      expect(response.headers.get("location")).toBe(`https://${API_HOSTNAME}./api/next`);
      expect(response.headers.get("content-location")).toBe(`https://${API_HOSTNAME}/api/x`);
      expect(response.headers.get("refresh")).toContain(API_HOSTNAME);
    },
    ours: (response) => {
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(`${FRONTEND}/api/next`);
      expect(response.headers.get("content-location")).toBe(`${FRONTEND}/api/x`);
      expect(response.headers.get("refresh")).toBe(`5; url=${FRONTEND}/api/later`);
    },
  },
];

/** The third review's cases: what reached the API, or the browser, through the Worker. */
const thirdReview: Attack[] = [
  {
    property: "asks the edge for no cached answer, so no caller gets another's",
    send: (h) => h.fetch("/api/users/42/avatar.png", { jwt }),
    api: () =>
      new Response("png", { headers: { "cache-control": "public, max-age=86400", "x-api": "1" } }),
    // No cache option: workerd sends no `Pragma: no-cache`, and the edge may store
    // the answer under its URL and serve it to the next caller.
    guide: (response, h) => {
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("pragma");
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("cache-control");
      expect(response.headers.get("cache-control")).toBe("public, max-age=86400");
    },
    ours: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls[0]?.headers.pragma).toBe("no-cache");
      expect(h.apiCalls[0]?.headers["cache-control"]).toBe("no-store");
      expect(response.headers.get("cache-control")).toBe("private, max-age=86400");
    },
  },
  passesNoneOf("lets no caller choose the address the API logs and rate-limits", {
    "x-client-ip": "10.0.0.1",
    "x-cluster-client-ip": "10.0.0.2",
    "fastly-client-ip": "10.0.0.3",
    "x-scheme": "http",
    x_script_name: "/admin",
  }),
  {
    property: "forwards no path that one more decoding or NFKC turns into a step out",
    send: (h) => statusesOf(h, REDECODED_TRAVERSALS),
    guide: async (response, h) => {
      expect(await response.json()).toEqual(REDECODED_TRAVERSALS.map(() => 200));
      expect(h.apiCalls).toHaveLength(REDECODED_TRAVERSALS.length);
    },
    ours: async (response, h) => {
      expect(await response.json()).toEqual(REDECODED_TRAVERSALS.map(() => 404));
      expect(h.apiCalls).toHaveLength(0);
    },
  },
  {
    property: "refuses a cross-site read riding the Access cookie, and marks answers same-origin",
    send: (h) =>
      raw(h, "/api/me", {
        "cf-access-jwt-assertion": jwt,
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "no-cors",
        "sec-fetch-dest": "script",
      }),
    guide: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls.map((c) => c.url)).toEqual([`https://${API_HOSTNAME}/api/me`]);
      expect(response.headers.has("cross-origin-resource-policy")).toBe(false);
    },
    ours: (response, h) => {
      refusedWith(403)(response, h);
      expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    },
  },
  {
    property: "hands the browser no header the API echoes back under the Worker's prefix",
    send: (h) => h.fetch("/api/x", { jwt }),
    api: (request) =>
      new Response("{}", {
        headers: {
          "x-access-bridge-user-email": request.headers["x-access-bridge-user-email"] ?? "none",
          "x-access-bridge-identity": request.headers["x-access-bridge-identity"] ?? "none",
        },
      }),
    guide: (response) => {
      expect(response.headers.get("x-access-bridge-user-email")).toBe("none");
      expect(response.headers.get("x-access-bridge-identity")).toBe("none");
    },
    ours: (response, h) => {
      expect(response.status).toBe(200);
      expect(h.apiCalls[0]?.headers["x-access-bridge-identity"]).toBeTruthy();
      expect(response.headers.has("x-access-bridge-user-email")).toBe(false);
      expect(response.headers.has("x-access-bridge-identity")).toBe(false);
    },
  },
  {
    property: "hands the browser no reason phrase with the service token in it",
    send: (h) => h.fetch("/api/x", { jwt }),
    api: (request) =>
      new Response("no", {
        status: 403,
        statusText: `bad secret ${request.headers["cf-access-client-secret"] ?? ""}`,
      }),
    guide: (response) => {
      expect(response.statusText).toBe(`bad secret ${CLIENT_SECRET}`);
    },
    ours: (response, h) => {
      expect(response.status).toBe(403);
      expect(response.statusText).toBe("");
      expect(h.apiCalls).toHaveLength(1);
    },
  },
  {
    property: "hands the browser no error page that shows the service token",
    send: (h) => h.fetch("/api/x", { jwt }),
    api: (request) =>
      new Response(`<pre>${JSON.stringify(request.headers)}</pre>`, {
        status: 500,
        headers: { "content-type": "text/html" },
      }),
    guide: async (response) => {
      expect(response.status).toBe(500);
      expect(await response.text()).toContain(CLIENT_SECRET);
    },
    ours: async (response, h) => {
      expect(response.status).toBe(502);
      const text = await response.text();
      expect(JSON.parse(text).error).toBe("bad gateway");
      expect(text).not.toContain(CLIENT_SECRET);
      expect(h.apiCalls).toHaveLength(1);
    },
  },
  {
    property: "points no Link header at the API host",
    send: (h) => h.fetch("/api/items", { jwt }),
    api: () =>
      new Response("[]", {
        headers: { link: `<https://${API_HOSTNAME}/api/items?page=2>; rel="next"` },
      }),
    guide: (response) => {
      expect(response.headers.get("link")).toBe(
        `<https://${API_HOSTNAME}/api/items?page=2>; rel="next"`,
      );
    },
    ours: (response) => {
      expect(response.status).toBe(200);
      expect(response.headers.get("link")).toBe(`<${FRONTEND}/api/items?page=2>; rel="next"`);
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

  const cases = [...attacks, ...hardening, ...thirdReview].flatMap((a) => [
    ["the guide fails", a.property, a, "guide"] as const,
    ["ours", a.property, a, "ours"] as const,
  ]);
  it.each(cases)("%s: %s", async (_who, _property, attack, which) => {
    const h = (attack.networkFailure ? harnesses.failing : harnesses.normal)!;
    h.reset();
    if (attack.api) h.api = attack.api;
    const send: Harness["fetch"] = (path, init = {}) =>
      h.fetch(path, { ...init, worker: which === "ours" ? "ours" : undefined });
    const view = { ...h, fetch: send };
    target.set(view, which === "ours" ? "ours" : undefined);
    const response = await attack.send(view);
    await attack[which](response, h);
  });
});

describe("a WebSocket from another site, riding the person's Access cookie", () => {
  let s: SocketHarness;
  beforeAll(async () => {
    s = await startSockets(key);
  });
  afterAll(() => s.mf.dispose());
  beforeEach(() => s.reset());
  const foreign = { origin: "https://evil.example", "cf-access-jwt-assertion": jwt };

  it("the guide fails: it passes the upgrade from any origin, and the page talks to the API", async () => {
    expect(await exchange(await s.open("guide", foreign), "hijacked")).toBe("echo:hijacked");
    expect(s.calls).toHaveLength(1);
  });

  it("ours: refuses it with 403 cross_site, and the API sees nothing", async () => {
    await expectRefused(s, await s.open("ours", foreign), 403, "cross_site");
  });
});
