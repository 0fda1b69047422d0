/**
 * What breaks in production, in workerd: the API's Access refusing the
 * service token, WebSockets through the route (and only from the front end's
 * own origin), answers streamed as the API produces them, and the mark that
 * lets a page tell the Worker's answers from Access's.
 */
import { REASON_HEADER } from "../../worker/src/reasons";
import { REASON_HEADER as CLIENT_REASON_HEADER } from "../../client";
import {
  API_HOSTNAME,
  CLIENT_ID,
  CLIENT_SECRET,
  expectJsonError,
  FRONTEND,
  type Harness,
  logLineOf,
  newSigningKey,
  signJwt,
  startWorker,
  TEAM_DOMAIN,
} from "./harness";
import { exchange, expectRefused, startSockets, type SocketHarness } from "./sockets";

const key = newSigningKey("key-1");
const jwt = signJwt(key);
const loginUrl = `https://${TEAM_DOMAIN}/cdn-cgi/access/login/${API_HOSTNAME}?kid=0f&redirect_url=%2Fitems`;

describe("the API's Access refusing the service token", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({ keys: [key] });
  });
  afterAll(() => h.dispose());
  beforeEach(() => h.reset());

  it.each([
    ["the team's login", loginUrl],
    [
      "another team's login",
      `https://other.cloudflareaccess.com/cdn-cgi/access/login/${API_HOSTNAME}`,
    ],
    ["Access's path on the API's own host", `https://${API_HOSTNAME}/cdn-cgi/access/login`],
    ["the team domain's root", `https://${TEAM_DOMAIN}/`],
  ])("a redirect to %s reaches the browser as 502 service_token_refused", async (_, location) => {
    h.api = () => new Response("redirecting", { status: 302, headers: { location } });
    const response = await h.fetch("/api/items", { jwt });
    expect(response.headers.get("location")).toBeNull();
    const requestId = await expectJsonError(response, 502, "service_token_refused");
    expect(h.apiCalls).toHaveLength(1);
    const line = await logLineOf(h, requestId);
    expect(line).toMatchObject({
      reason: "service_token_refused",
      status: 502,
      api: API_HOSTNAME,
      upstreamStatus: 302,
    });
    // The log names the API, never the token or where the login would send the person.
    const logged = JSON.stringify(h.logs);
    for (const secret of [CLIENT_ID, CLIENT_SECRET, "redirect_url", "kid=0f"]) {
      expect(logged).not.toContain(secret);
    }
  });

  it("says so in its error body, with nothing of the team domain in the answer", async () => {
    h.api = () => new Response(null, { status: 302, headers: { location: loginUrl } });
    const response = await h.fetch("/api/items", { jwt });
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({
      error: "the API's Access refused the service token",
      reason: "service_token_refused",
    });
    const everything = text + JSON.stringify([...response.headers]);
    expect(everything).not.toContain(TEAM_DOMAIN);
  });

  it("is any redirect status to the login, and never a redirect without a Location", async () => {
    for (const status of [301, 303, 307, 308]) {
      h.api = () => new Response(null, { status, headers: { location: loginUrl } });
      await expectJsonError(await h.fetch("/api/items", { jwt }), 502, "service_token_refused");
    }
    h.api = () => new Response(null, { status: 302 });
    const bare = await h.fetch("/api/items", { jwt });
    expect([bare.status, bare.headers.get("location")]).toEqual([302, null]);
  });

  it("never hands the browser a Location on the team domain, in any answer", async () => {
    for (const status of [200, 201, 401]) {
      h.api = () =>
        new Response("{}", {
          status,
          headers: { location: `https://${TEAM_DOMAIN}/`, "content-location": loginUrl },
        });
      const response = await h.fetch("/api/items", { jwt });
      expect(response.status).toBe(status);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-location")).toBeNull();
    }
  });

  it("still passes the API's own redirects, mapped to the front end", async () => {
    h.api = () =>
      new Response(null, {
        status: 302,
        headers: { location: `https://${API_HOSTNAME}/v2/items` },
      });
    const response = await h.fetch("/api/items", { jwt });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${FRONTEND}/v2/items`);
  });
});

describe("the mark on every error that passed the Worker", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({ keys: [key] });
  });
  afterAll(() => h.dispose());
  beforeEach(() => h.reset());

  it("is the client's: one name for both sides", () => {
    expect(CLIENT_REASON_HEADER).toBe(REASON_HEADER);
  });

  it("is on the API's own 401, passed on, and on the Worker's own answers, with their reasons", async () => {
    h.api = () => new Response("who?", { status: 401 });
    const passed = await h.fetch("/api/items", { jwt });
    expect([passed.status, passed.headers.get(REASON_HEADER)]).toEqual([401, "forwarded"]);
    const own = await h.fetch("/api/items", { jwt: null });
    expect([own.status, own.headers.get(REASON_HEADER)]).toEqual([401, "missing_assertion"]);
  });

  it("is not on a success, and an API cannot set it itself", async () => {
    h.api = () => new Response("ok", { headers: { [REASON_HEADER]: "forwarded" } });
    const ok = await h.fetch("/api/items", { jwt });
    expect([ok.status, ok.headers.get(REASON_HEADER)]).toEqual([200, null]);
  });
});

describe("streamed answers", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({ keys: [key] });
  });
  afterAll(() => h.dispose());

  it("reach the browser as the API produces them, not when it ends", async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const encoder = new TextEncoder();
    h.api = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(encoder.encode("data: first\n\n"));
            await finished;
            controller.enqueue(encoder.encode("data: last\n\n"));
            controller.close();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    const response = await h.fetch("/api/events", { jwt });
    const reader = response.body!.getReader();
    const first = await reader.read();
    // The API has not finished: its last event is still held back.
    expect(new TextDecoder().decode(first.value)).toContain("data: first");
    finish();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += new TextDecoder().decode(chunk.value);
    }
    expect(rest).toContain("data: last");
  });
});

describe("WebSockets through the route", () => {
  let s: SocketHarness;
  beforeAll(async () => {
    s = await startSockets(key);
  });
  afterAll(() => s.mf.dispose());
  beforeEach(() => s.reset());

  it("echo both ways through the Worker, from the front end's own origin", async () => {
    const response = await s.open("ours", { origin: FRONTEND, "cf-access-jwt-assertion": jwt });
    expect(await exchange(response, "hello")).toBe("echo:hello");
    expect(s.unexpected).toEqual([]);
  });

  it("reach the API with the service token and the identity statement, and hand the browser neither", async () => {
    const response = await s.open("ours", { origin: FRONTEND, "cf-access-jwt-assertion": jwt });
    response.webSocket!.accept();
    expect(s.calls).toHaveLength(1);
    const seen = s.calls[0]!;
    expect(seen.url).toBe(`https://${API_HOSTNAME}/api/live`);
    expect(seen.headers).toMatchObject({
      upgrade: "websocket",
      "cf-access-client-id": CLIENT_ID,
      "cf-access-client-secret": CLIENT_SECRET,
      "x-access-bridge-identity": expect.any(String),
    });
    expect(seen.headers["cf-access-jwt-assertion"]).toBeUndefined();
    const headers = JSON.stringify([...response.headers]);
    expect(headers).not.toContain(CLIENT_SECRET);
    expect(headers).not.toContain(CLIENT_ID);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(response.headers.get("x-api")).toBe("yes");
    response.webSocket!.close();
  });

  it.each([
    [
      "another origin",
      { origin: "https://evil.example", "cf-access-jwt-assertion": jwt },
      403,
      "cross_site",
    ],
    ["no origin", { "cf-access-jwt-assertion": jwt }, 403, "cross_site"],
    [
      "the front end's host on another scheme",
      { origin: "http://app.mysite.com", "cf-access-jwt-assertion": jwt },
      403,
      "cross_site",
    ],
    ["no assertion", { origin: FRONTEND }, 403, "missing_assertion"],
    [
      "no assertion and another origin",
      { origin: "https://evil.example" },
      403,
      "missing_assertion",
    ],
    [
      "a bad assertion",
      { origin: FRONTEND, "cf-access-jwt-assertion": `${jwt.slice(0, -4)}AAAA` },
      403,
      "invalid_assertion",
    ],
  ] as [string, Record<string, string>, number, string][])(
    "from %s are refused, and the API sees nothing",
    async (_, headers, status, reason) => {
      await expectRefused(s, await s.open("ours", headers), status, reason);
    },
  );
});
