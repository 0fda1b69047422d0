/**
 * The lab in front of a user's own app (`--frontend`, `--api`): two stand-in
 * servers take the demo's place, and Chromium goes through the emulated
 * Access edges and the real Worker to reach them. The stand-ins record what
 * they received, so every refusal is also checked to have forwarded nothing.
 *
 * The steps build on each other, as a person's session does: the page and
 * its hot-reload socket stay open from the first step to the last.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { topologyOf, type LabTopology } from "../../lab/topology";
import { declareStack } from "../support/stacks";
import { openPage, openSession, runCase, signIn, type Session } from "./browser-support";
import { standInApi, standInFrontend, type StandInApi, type StandInFrontend } from "./stand-ins";

jest.setTimeout(60_000);

const email = "dev@example.com";
const frontendOrigin = "https://www.example.com";
const apiOrigin = "https://api.example.com";

let frontend: StandInFrontend;
let api: StandInApi;
let session: Session;
/** What the program declares for the fixture stack, read independently of the lab. */
let declared: LabTopology;

beforeAll(async () => {
  frontend = await standInFrontend();
  api = await standInApi(frontendOrigin);
  declared = topologyOf(await declareStack("dev"));
  session = await openSession("dev", { labArgs: ["--frontend", frontend.url, "--api", api.url] });
  // The API is configured with what the lab prints; the audience must be the declared API app's.
  api.trust(session.lab.apiJwt);
}, 120_000);

afterAll(async () => {
  await session?.close();
  await frontend?.close();
  await api?.close();
});

/** An assertion checked as an app behind Access checks it: RS256 against the team's certs. */
async function claimsOf(token: unknown, audience: string): Promise<Record<string, unknown>> {
  const jwks = createRemoteJWKSet(new URL(session.lab.apiJwt.certs));
  const { payload } = await jwtVerify(String(token), jwks, {
    issuer: session.lab.apiJwt.issuer,
    audience,
    algorithms: ["RS256"],
  });
  return payload;
}

/** What the stand-in front end's page keeps on its window, and what the tests add there. */
interface PageGlobals {
  socketMessages: string[];
  socket: { send(text: string): void; readyState: number };
  streamed: string[];
}

/** What the browser got for a fetch the page made; `blocked` when it threw (a CORS refusal). */
interface Fetched {
  outcome: "ok" | "http-error" | "blocked";
  status: number | null;
  body: unknown;
}

function fetchOnPage(url: string, init: Record<string, unknown>): Promise<Fetched> {
  return session.page.evaluate(
    async ([u, i]) => {
      try {
        const response = await fetch(u, i as RequestInit);
        const text = await response.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON.
        }
        return { outcome: response.ok ? "ok" : "http-error", status: response.status, body };
      } catch {
        return { outcome: "blocked", status: null, body: null };
      }
    },
    [url, init] as const,
  ) as Promise<Fetched>;
}

/** The first response line and headers the lab sends a WebSocket handshake for the front end. */
function handshake(cookie: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port: session.lab.port,
      servername: "www.example.com",
      ca: readFileSync(session.lab.certFile),
    });
    socket.once("secureConnect", () => {
      socket.write(
        [
          "GET /hmr HTTP/1.1",
          "Host: www.example.com",
          "Upgrade: websocket",
          "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 13",
          ...(cookie !== undefined ? [`Cookie: ${cookie}`] : []),
          "",
          "",
        ].join("\r\n"),
      );
    });
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (head.includes("\r\n\r\n")) {
        socket.destroy();
        resolve(head.slice(0, head.indexOf("\r\n\r\n")));
      }
    });
    socket.once("error", reject);
  });
}

/** A request straight to the lab, as a script outside the browser would send it. */
function labRequest(
  host: string,
  path: string,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: session.lab.port,
        servername: host,
        ca: readFileSync(session.lab.certFile),
        method: init.method,
        path,
        headers: { host, ...init.headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once("error", reject);
    req.end(init.body);
  });
}

async function frontendCookie(): Promise<string> {
  const cookies = await session.context.cookies(`${frontendOrigin}/`);
  const auth = cookies.find((c) => c.name === "CF_Authorization");
  if (!auth) throw new Error("not logged in to the front end");
  return `CF_Authorization=${auth.value}`;
}

describe("the lab in front of your own front end and API", () => {
  it("sends a person who is not logged in to Access's login, and the dev server sees nothing", async () => {
    const response = await session.page.goto(`${frontendOrigin}/`);
    expect(new URL(session.page.url()).hostname).toBe(declared.teamDomain);
    expect(response?.status()).toBe(200);
    expect(await handshake(undefined)).toMatch(/^HTTP\/1\.1 302 /);
    expect(frontend.requests).toEqual([]);
    expect(frontend.upgrades).toEqual([]);
  });

  it("serves the page from your dev server once you log in, with the front end app's assertion", async () => {
    await signIn(session.page, `${frontendOrigin}/`, email);
    expect(await session.page.textContent("#app")).toBe("Served by the stand-in front end");
    const [seen] = frontend.requests;
    expect(seen).toMatchObject({ method: "GET", path: "/" });
    // The dev server sees its own address, as it does without the lab.
    expect(seen!.headers.host).toBe(new URL(frontend.url).host);
    expect(seen!.headers["x-forwarded-host"]).toBe("www.example.com");
    expect(seen!.headers["x-forwarded-proto"]).toBe("https");
    const claims = await claimsOf(seen!.headers["cf-access-jwt-assertion"], declared.frontend.aud);
    expect(claims["email"]).toBe(email);
  });

  it("opens the dev server's hot-reload WebSocket through the front end's edge", async () => {
    await session.page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).socketMessages.includes("hello"),
    );
    expect(frontend.upgrades).toHaveLength(1);
    const [upgrade] = frontend.upgrades;
    expect(upgrade!.path).toBe("/hmr");
    const claims = await claimsOf(
      upgrade!.headers["cf-access-jwt-assertion"],
      declared.frontend.aud,
    );
    expect(claims["email"]).toBe(email);
  });

  /**
   * Reads a streamed response on the page while the server holds back its
   * second half until `release`: the first half can only reach the page if
   * nothing on the way waits for the whole body.
   */
  async function readStreamed(path: string, first: string, release: () => void): Promise<string[]> {
    await session.page.evaluate((url) => {
      const w = globalThis as unknown as PageGlobals;
      w.streamed = [];
      void fetch(url).then(async (response) => {
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          w.streamed.push(value);
        }
        w.streamed.push("(end)");
      });
    }, path);
    await session.page.waitForFunction(
      (text) => (globalThis as unknown as PageGlobals).streamed.join("").includes(text),
      first,
    );
    const early = await session.page.evaluate(
      () => (globalThis as unknown as PageGlobals).streamed,
    );
    release();
    await session.page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).streamed.includes("(end)"),
    );
    const all = await session.page.evaluate(() => (globalThis as unknown as PageGlobals).streamed);
    return [early.join(""), all.join("")];
  }

  it("streams a response from the dev server as it comes", async () => {
    const [early, all] = await readStreamed("/stream", "first\n", () => frontend.releaseStream());
    expect(early).toBe("first\n");
    expect(all).toBe("first\nsecond\n(end)");
  });

  it("passes a JSON POST on /api through the Worker to your API, with the service token and your identity", async () => {
    const fetched = await fetchOnPage("/api/things?page=2", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "lab" }),
    });
    expect(fetched).toMatchObject({ outcome: "ok", status: 200 });
    expect(fetched.body).toMatchObject({ servedBy: "stand-in API", caller: session.lab.clientId });

    expect(api.calls).toHaveLength(1);
    const [call] = api.calls;
    expect(call).toMatchObject({ method: "POST", path: "/api/things?page=2" });
    expect(JSON.parse(call!.body)).toEqual({ name: "lab" });
    expect(call!.headers["content-type"]).toBe("application/json");
    expect(call!.headers.host).toBe("api.example.com");
    // The service token the program declared, as the Worker sends it.
    expect(call!.headers["cf-access-client-id"]).toBe(session.lab.clientId);
    const secret = String(call!.headers["cf-access-client-secret"]);
    expect(createHash("sha256").update(secret).digest("hex")).toBe(session.lab.clientSecretSha256);
    // The API app's own assertion, for the service token, signed by the team's keys.
    expect(call!.assertion).toMatchObject({
      verified: true,
      claims: { common_name: session.lab.clientId, aud: [declared.apis[0]!.app.aud] },
    });
    // The person, as the Worker names them, never the front end's cookie.
    expect(call!.headers["x-access-bridge-user-email"]).toBe(email);
    expect(call!.headers).not.toHaveProperty("cookie");
  });

  it("refuses a cross-site write through the Worker before it reaches your API", async () => {
    const status = await labRequest("www.example.com", "/api/things", {
      method: "POST",
      headers: {
        cookie: await frontendCookie(),
        origin: "https://evil.example.net",
        "content-type": "application/json",
      },
      body: "{}",
    });
    expect(status).toBe(403);
    expect(api.calls).toHaveLength(1);
  });

  it("streams your API's answer through the Worker as it comes", async () => {
    const [early, all] = await readStreamed("/api/stream", "data: first\n\n", () =>
      api.releaseStream(),
    );
    expect(early).toBe("data: first\n\n");
    expect(all).toBe("data: first\n\ndata: second\n\n(end)");
    expect(api.calls.at(-1)).toMatchObject({ method: "GET", path: "/api/stream" });
  });

  it("answers direct credentialed calls as the stack's CORS settings say", async () => {
    const direct = (headers: Record<string, string>) =>
      fetchOnPage(`${apiOrigin}/api/things`, {
        method: "POST",
        credentials: "include",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ direct: true }),
      });
    const before = api.calls.length;

    // Not logged in to the API: Access redirects to its login, which a fetch cannot follow.
    expect(await direct({ "x-requested-with": "lab" })).toMatchObject({ outcome: "blocked" });
    expect(api.calls).toHaveLength(before);

    // Logged in, in another tab so this page and its socket stay open.
    const tab = await session.context.newPage();
    await signIn(tab, `${apiOrigin}/`, email);
    // The browser asks the API for its favicon after the page loads; let that land before counting.
    await tab.waitForLoadState("networkidle");
    await tab.close();
    api.reset();

    // corsAllowedHeaders lists x-requested-with: Access answers the preflight, the POST reaches the API.
    const allowed = await direct({ "x-requested-with": "lab" });
    expect(allowed).toMatchObject({ outcome: "ok", status: 200, body: { caller: email } });
    expect(api.calls.map((c) => c.method)).toEqual(["POST"]);
    expect(api.calls[0]!.assertion).toMatchObject({
      verified: true,
      claims: { email, aud: [declared.apis[0]!.app.aud] },
    });
    expect(api.calls[0]!.headers["x-requested-with"]).toBe("lab");

    // A header the stack does not allow: the preflight fails and nothing reaches the API.
    expect(await direct({ "x-not-allowed": "lab" })).toMatchObject({ outcome: "blocked" });
    expect(api.calls).toHaveLength(1);
  });

  it("runs the guide's cases on the lab's own page, next to your app", async () => {
    const tab = session.page;
    const labTab = await session.context.newPage();
    session.page = labTab;
    try {
      await openPage(session, email);
      expect(new URL(labTab.url()).pathname).toBe("/__lab/");
      expect(await labTab.textContent("#upstreams")).toBe(
        `${frontendOrigin}/ is your front end (${frontend.url}) outside /api/ · ` +
          `${apiOrigin} is your API (${api.url}): the cases call /api/echo on it`,
      );
      api.reset();
      const { result } = await runCase(session, "worker");
      expect(result).toMatchObject({ outcome: "ok", status: 200 });
      expect(api.calls.map((c) => `${c.method} ${c.path.split("?")[0]}`)).toEqual([
        "GET /api/echo",
      ]);
    } finally {
      session.page = tab;
      await labTab.close();
    }
  });

  it("keeps the hot-reload WebSocket open through all of it", async () => {
    expect(frontend.socketsClosed).toBe(0);
    await session.page.evaluate(() =>
      (globalThis as unknown as PageGlobals).socket.send("still there?"),
    );
    await session.page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).socketMessages.includes("echo:still there?"),
    );
    expect(frontend.socketMessages).toEqual(["still there?"]);
    const state = await session.page.evaluate(
      () => (globalThis as unknown as PageGlobals).socket.readyState,
    );
    expect(state).toBe(1);
  });
});
