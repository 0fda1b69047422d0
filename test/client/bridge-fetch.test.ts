import { buildSync } from "esbuild";
import * as path from "node:path";
import {
  bridgeFetch,
  createBridgeFetch,
  isSessionExpired,
  REASON_HEADER,
  SessionExpiredError,
} from "../../client";

/** What the page's fetch saw, and the answers it gives in turn. */
function fakeFetch(...answers: Response[]) {
  const seen: Request[] = [];
  const fetchMock = jest.fn(async (request: Request) => {
    seen.push(request);
    const answer = answers.shift();
    if (!answer) throw new Error("no more answers");
    return answer;
  });
  globalThis.fetch = fetchMock as unknown as typeof fetch;
  return seen;
}

/** Access's answer to an XHR-marked request once the session has ended: it never reached the Worker. */
const accessEnded = () => new Response(null, { status: 401 });
/** The API's own 401, passed on by the Worker, which marks every error. */
const apiRefused = () =>
  new Response('{"error":"who are you"}', {
    status: 401,
    headers: { [REASON_HEADER]: "forwarded" },
  });

const realFetch = globalThis.fetch;
let reload: jest.Mock;
beforeEach(() => {
  reload = jest.fn();
  (globalThis as { location?: unknown }).location = { reload };
});
afterEach(() => {
  globalThis.fetch = realFetch;
  delete (globalThis as { location?: unknown }).location;
});

describe("bridgeFetch", () => {
  it("asks Access for a 401 instead of a redirect, and sends the front end's cookie", async () => {
    const seen = fakeFetch(new Response("ok"));
    const response = await bridgeFetch("https://example.com/api/x", { headers: { a: "1" } });
    expect(await response.text()).toBe("ok");
    expect(seen[0]!.headers.get("x-requested-with")).toBe("XMLHttpRequest");
    expect(seen[0]!.headers.get("a")).toBe("1");
    expect(seen[0]!.credentials).toBe("same-origin");
  });

  it("hands back the API's own 401, which the Worker marked, as any answer", async () => {
    fakeFetch(apiRefused());
    const onSessionExpired = jest.fn();
    const response = await bridgeFetch("https://example.com/api/x", { onSessionExpired });
    expect(response.status).toBe(401);
    expect(onSessionExpired).not.toHaveBeenCalled();
    expect(reload).not.toHaveBeenCalled();
  });

  it("calls the app's onSessionExpired when Access says the session ended", async () => {
    fakeFetch(accessEnded());
    const onSessionExpired = jest.fn();
    await expect(
      bridgeFetch("https://example.com/api/x", { onSessionExpired }),
    ).rejects.toBeInstanceOf(SessionExpiredError);
    expect(onSessionExpired).toHaveBeenCalledTimes(1);
    expect(reload).not.toHaveBeenCalled();
  });

  it("without a callback, sends the page to log in again and back", async () => {
    fakeFetch(accessEnded());
    await expect(bridgeFetch("https://example.com/api/x")).rejects.toBeInstanceOf(
      SessionExpiredError,
    );
    expect(reload).toHaveBeenCalledTimes(1);
  });

  it("sends a GET once more when the app has the person logged in again", async () => {
    const seen = fakeFetch(accessEnded(), new Response("after login"));
    const response = await bridgeFetch("https://example.com/api/x", {
      onSessionExpired: async () => true,
    });
    expect(await response.text()).toBe("after login");
    expect(seen.map((r) => r.method)).toEqual(["GET", "GET"]);
  });

  it("never sends a POST again on its own, even once the person is logged in again", async () => {
    const seen = fakeFetch(accessEnded(), new Response("must not be asked"));
    await expect(
      bridgeFetch("https://example.com/api/orders", {
        method: "POST",
        body: "{}",
        onSessionExpired: () => true,
      }),
    ).rejects.toBeInstanceOf(SessionExpiredError);
    expect(seen).toHaveLength(1);
  });

  it("takes the app's handling once for every call with createBridgeFetch", async () => {
    fakeFetch(accessEnded());
    const onSessionExpired = jest.fn();
    const api = createBridgeFetch({ onSessionExpired });
    await expect(api("https://example.com/api/x")).rejects.toThrow("the Access session ended");
    expect(onSessionExpired).toHaveBeenCalledTimes(1);
  });

  it("tells Access's answer from the Worker's and the API's by the Worker's mark", () => {
    expect(isSessionExpired(accessEnded())).toBe(true);
    expect(isSessionExpired(apiRefused())).toBe(false);
    expect(isSessionExpired(new Response(null, { status: 403 }))).toBe(false);
  });
});

describe("access-bridge/client as shipped", () => {
  const bundle = buildSync({
    entryPoints: [path.join(__dirname, "../../client/index.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    write: false,
  }).outputFiles[0]!.text;

  it("is an ES module under 2 KB minified, with no dependency", () => {
    expect(Buffer.byteLength(bundle)).toBeLessThan(2048);
    expect(bundle).toMatch(/export\s*\{/);
    expect(bundle).not.toMatch(/\bimport\b|\brequire\(/);
  });
});
