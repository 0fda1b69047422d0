/**
 * The user's API behind the API's Access edge: what it receives, how its
 * answer comes back into the lab, and the lab's log of it.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { apiRequestHeaders, callApi, userApi } from "../../lab/api-origin";
import { LabLog } from "../../lab/log";
import { closed, listening } from "../support/servers";

describe("apiRequestHeaders", () => {
  it("keeps the request's headers, the API's public name as Host, and asks for what Cloudflare asks origins for", () => {
    const request = new Request("https://api.example.com/api/x?y=1", {
      method: "POST",
      headers: {
        "cf-access-jwt-assertion": "jwt",
        "cf-access-client-id": "id.access",
        "x-access-bridge-user-email": "a@b.c",
        connection: "keep-alive",
        "accept-encoding": "zstd",
        "content-length": "99",
      },
    });
    const headers = Object.fromEntries(apiRequestHeaders(request, 2));
    expect(headers).toEqual({
      "cf-access-jwt-assertion": "jwt",
      "cf-access-client-id": "id.access",
      "x-access-bridge-user-email": "a@b.c",
      host: "api.example.com",
      "x-forwarded-proto": "https",
      "accept-encoding": "gzip, br",
      "content-length": "2",
    });
  });
});

describe("callApi", () => {
  let api: Server;
  let url: URL;
  let seen: { method: string; path: string; headers: IncomingMessage["headers"]; body: string }[];

  beforeAll(async () => {
    seen = [];
    api = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
        if (req.url === "/gzip") {
          res.writeHead(200, {
            "content-type": "application/json",
            "content-encoding": "gzip",
            "set-cookie": ["a=1", "b=2"],
          });
          res.end(gzipSync(JSON.stringify({ packed: true })));
        } else {
          res.writeHead(201, { "access-control-allow-origin": "https://www.example.com" });
          res.end("created");
        }
      });
    });
    url = await listening(api);
  });

  afterAll(() => closed(api));

  it("sends the path, query and body, and returns the API's answer", async () => {
    const response = await callApi(
      url,
      new Request("https://api.example.com/api/things?page=2", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":1}',
      }),
    );
    expect(response.status).toBe(201);
    expect(await response.text()).toBe("created");
    expect(seen.at(-1)).toMatchObject({
      method: "POST",
      path: "/api/things?page=2",
      body: '{"a":1}',
      headers: { host: "api.example.com", "content-length": "7" },
    });
  });

  it("decodes a compressed answer, as Cloudflare does for the client, and keeps every cookie", async () => {
    const response = await callApi(url, new Request("https://api.example.com/gzip"));
    expect(response.headers.get("content-encoding")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await response.json()).toEqual({ packed: true });
  });

  it("logs each answer with its headers, for the page's explanations", async () => {
    const log = new LabLog();
    const call = userApi(url.origin, log);
    const response = await call(new Request("https://api.example.com/api/echo?run=1"));
    expect(response.status).toBe(201);
    expect(log.since(0)).toEqual([
      expect.objectContaining({
        party: "api",
        method: "GET",
        url: "https://api.example.com/api/echo?run=1",
        status: 201,
        answer: {
          headers: expect.objectContaining({
            "access-control-allow-origin": "https://www.example.com",
          }),
        },
      }),
    ]);
  });

  it("answers 502 naming --api and its URL when the API does not answer", async () => {
    const gone = createServer();
    const goneUrl = await listening(gone);
    await closed(gone);
    const log = new LabLog();
    const response = await userApi(goneUrl.origin, log)(new Request("https://api.example.com/x"));
    const reason = `--api ${goneUrl.origin}: nothing answers (ECONNREFUSED)`;
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: `the lab could not reach your API: ${reason}` });
    expect(log.since(0)).toEqual([
      expect.objectContaining({ party: "api", status: 502, note: reason }),
    ]);
  });
});
