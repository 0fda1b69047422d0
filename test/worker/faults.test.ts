import {
  baseBindings,
  CLIENT_SECRET,
  claims,
  expectJsonError,
  type Harness,
  newSigningKey,
  signJwt,
  startWorker,
  waitForLog,
} from "./harness";

const key = newSigningKey("key-1");
const jwt = signJwt(key);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const requiredBindings = [
  "CF_ACCESS_CLIENT_ID",
  "CF_ACCESS_CLIENT_SECRET",
  "API_HOSTNAME",
  "ACCESS_TEAM_DOMAIN",
  "ACCESS_AUD",
];

function without(name: string): Record<string, string> {
  const bindings = { ...baseBindings };
  delete bindings[name];
  return bindings;
}

function expectNoSecretsLogged(h: Harness, token: string): void {
  const logged = h.logs.map((l) => l.message).join("\n");
  expect(logged).not.toContain(CLIENT_SECRET);
  expect(logged).not.toContain(token);
  expect(logged).not.toContain(token.split(".")[2]!);
}

describe("proxy Worker under faults", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({
      keys: [key],
      variants: {
        // A fresh isolate: no keys cached yet.
        keysDown: {},
        slow: { bindings: { ...baseBindings, UPSTREAM_TIMEOUT_MS: "300" } },
        ...Object.fromEntries(requiredBindings.map((name) => [name, { bindings: without(name) }])),
      },
    });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  describe("keys endpoint unavailable", () => {
    it("fails closed with 403 when no keys were ever fetched, and forwards nothing", async () => {
      h.certsUp = false;
      const before = h.certsFetches;
      const response = await h.fetch("/api/x", {
        jwt,
        worker: "keysDown",
        headers: { "cf-ray": "ray-keys-down" },
      });
      expect(await expectJsonError(response, 403)).toBe("ray-keys-down");
      expect(h.certsFetches).toBeGreaterThan(before);
      expect(h.apiCalls).toHaveLength(0);
      expect(
        await waitForLog(h, (l) => l.level === "error" && l.message.includes("ray-keys-down")),
      ).toBe(true);
      expectNoSecretsLogged(h, jwt);
    });

    it("recovers once the keys endpoint answers again", async () => {
      expect((await h.fetch("/api/x", { jwt, worker: "keysDown" })).status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
    });
  });

  /**
   * Readies the variant with a 300 ms timeout for a test of `api`: its keys
   * loaded first, so any timing measures only the API call.
   */
  async function slowVariantAnsweredBy(api: Harness["api"]): Promise<void> {
    await h.fetch("/api/x", { worker: "slow", jwt });
    h.apiCalls.length = 0;
    h.api = api;
  }

  /** A body that sends `parts` one by one, waiting `pauseMs(i)` before part `i`. */
  function dripping(parts: string[], pauseMs: (i: number) => number): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        await sleep(pauseMs(sent));
        if (sent < parts.length) controller.enqueue(new TextEncoder().encode(parts[sent++]));
        else controller.close();
      },
    });
  }

  /**
   * Sends `path` to the variant with a 300 ms timeout while `api` answers,
   * and expects the 504 in time, logged under the ray without secrets.
   */
  async function expectTimedOut(api: Harness["api"], path: string, ray: string): Promise<void> {
    await slowVariantAnsweredBy(api);
    const started = Date.now();
    const response = await h.fetch(path, { jwt, worker: "slow", headers: { "cf-ray": ray } });
    const elapsed = Date.now() - started;
    expect(await expectJsonError(response, 504)).toBe(ray);
    expect(h.apiCalls).toHaveLength(1);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3500);
    expect(await waitForLog(h, (l) => l.message.includes(ray))).toBe(true);
    expectNoSecretsLogged(h, jwt);
  }

  describe("API too slow", () => {
    it("answers 504 once UPSTREAM_TIMEOUT_MS has passed", async () => {
      await expectTimedOut(
        async () => {
          await sleep(4000);
          return new Response("too late");
        },
        "/api/slow",
        "ray-504",
      );
    });
  });

  describe("API slow to finish its body", () => {
    it("streams a body that outlasts UPSTREAM_TIMEOUT_MS once the headers came in time", async () => {
      const parts = [1, 2, 3, 4, 5].map((n) => `part ${n}\n`);
      await slowVariantAnsweredBy(() => new Response(dripping(parts, () => 150)));
      const response = await h.fetch("/api/download", { jwt, worker: "slow" });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("part 1\npart 2\npart 3\npart 4\npart 5\n");
      expect(h.apiCalls).toHaveLength(1);
    });
  });

  describe("API slow to finish an error body", () => {
    it("answers 504 once UPSTREAM_TIMEOUT_MS has passed, since the body is read before anything is sent", async () => {
      const stalling = () => {
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent) return sleep(4000);
            sent = true;
            controller.enqueue(new TextEncoder().encode("<h1>500</h1>"));
          },
        });
        return new Response(body, { status: 500, headers: { "content-type": "text/html" } });
      };
      await expectTimedOut(stalling, "/api/broken", "ray-504-body");
    });
  });

  describe("API sending a long error body", () => {
    it("streams the rest of an error body past 64 KB, unscanned, as it comes", async () => {
      const parts = Array.from({ length: 10 }, (_, i) => String((i + 1) % 10).repeat(10_000));
      // 70 KB at once, then the rest in pieces, within UPSTREAM_TIMEOUT_MS.
      const body = () => dripping(parts, (i) => (i >= 7 ? 50 : 0));
      await slowVariantAnsweredBy(
        () => new Response(body(), { status: 500, headers: { "content-type": "text/plain" } }),
      );
      const response = await h.fetch("/api/export", { jwt, worker: "slow" });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).toHaveLength(100_000);
      expect(text.slice(-10_000)).toBe("0".repeat(10_000));
      expect(h.apiCalls).toHaveLength(1);
    });
  });

  describe("cached verification", () => {
    it("still checks exp on a token it has already verified", async () => {
      // Accepted within the 5 s clock tolerance, then refused once past it.
      const exp = Math.floor(Date.now() / 1000) - 2;
      const token = signJwt(key, claims({ exp }));
      expect((await h.fetch("/api/x", { jwt: token })).status).toBe(200);
      expect((await h.fetch("/api/x", { jwt: token })).status).toBe(200);
      await sleep((exp + 5) * 1000 - Date.now() + 300);
      await expectJsonError(await h.fetch("/api/x", { jwt: token }), 403);
      expect(h.apiCalls).toHaveLength(2);
    });
  });

  describe.each(requiredBindings)("without the %s binding", (missing) => {
    it("answers a generic 500, names the binding in the log and forwards nothing", async () => {
      const before = h.certsFetches;
      const response = await h.fetch("/api/x", {
        jwt,
        worker: missing,
        headers: { "cf-ray": "ray-500" },
      });
      const text = await response.clone().text();
      expect(JSON.parse(text)).toEqual({
        error: "internal error",
        reason: "misconfigured",
        requestId: "ray-500",
      });
      await expectJsonError(response, 500);
      expect(text).not.toContain(missing);
      expect(h.apiCalls).toHaveLength(0);
      expect(h.certsFetches).toBe(before);
      expect(
        await waitForLog(h, (l) => l.message.includes("ray-500") && l.message.includes(missing)),
      ).toBe(true);
      expectNoSecretsLogged(h, jwt);
    });
  });
});

describe("API unreachable", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({ keys: [key], apiNetworkFailure: true });
  });
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  it("answers 502 with no internal detail and logs the cause under the request id", async () => {
    const response = await h.fetch("/api/x", { jwt, headers: { "cf-ray": "ray-502" } });
    expect(response.status).toBe(502);
    const text = await response.clone().text();
    expect(JSON.parse(text)).toEqual({
      error: "upstream unreachable",
      reason: "upstream_unreachable",
      requestId: "ray-502",
    });
    expect(text).not.toMatch(/network|connection|lost|exception/i);
    expect(h.apiCalls).toHaveLength(1);
    expect(
      await waitForLog(
        h,
        (l) =>
          l.level === "error" && l.message.includes("ray-502") && /connection/i.test(l.message),
      ),
    ).toBe(true);
    expectNoSecretsLogged(h, jwt);
  });
});
