/**
 * Reaching an API under its own name when that name does not resolve here
 * and its certificate is not publicly trusted, as with the lab: --resolve and
 * --cacert, as curl has them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { generate } from "selfsigned";
import { parseResolve } from "../../doctor/transport";
import { ORIGIN } from "./support/scenarios";
import { startHttpsHandler, type TestServer } from "./support/servers";
import { runCli } from "./support/run-cli";

/** RFC 6761: `.invalid` never resolves, so only --resolve can reach this name. */
const HOST = "api.example.invalid";

describe("parseResolve", () => {
  it("reads host:port:address as curl does, IPv6 in brackets", () => {
    expect(parseResolve("API.example.com:8443:127.0.0.1")).toEqual({
      host: "api.example.com",
      port: 8443,
      address: "127.0.0.1",
    });
    expect(parseResolve("api.example.com:443:[::1]")).toEqual({
      host: "api.example.com",
      port: 443,
      address: "::1",
    });
  });

  it.each(["api.example.com:443", "api.example.com:0:127.0.0.1", "api.example.com:443:localhost"])(
    "refuses %s",
    (arg) => {
      expect(() => parseResolve(arg)).toThrow(/expected <host>:<port>:<address>/);
    },
  );
});

describe("--resolve and --cacert against an HTTPS server for a name that does not resolve", () => {
  let server: TestServer;
  let dir: string;
  let cacert: string;

  beforeAll(async () => {
    const pems = await generate([{ name: "commonName", value: HOST }], {
      keySize: 2048,
      algorithm: "sha256",
      extensions: [{ name: "subjectAltName", altNames: [{ type: 2, value: HOST }] }],
    });
    dir = mkdtempSync(path.join(tmpdir(), "doctor-cacert-"));
    cacert = path.join(dir, "cert.pem");
    writeFileSync(cacert, pems.cert);
    server = await startHttpsHandler({ key: pems.private, cert: pems.cert }, (req) => ({
      status: 200,
      headers: {
        "access-control-allow-origin": ORIGIN,
        vary: "Origin",
        "x-seen-host": String(req.headers.host),
      },
    }));
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = () => `https://${HOST}:${server.port}/items`;
  const resolve = () => `${HOST}:${server.port}:127.0.0.1`;

  it("reaches it under its name with both, and the server sees that name", async () => {
    const before = server.received.length;
    const run = await runCli([
      "--url",
      url(),
      "--origin",
      ORIGIN,
      "--resolve",
      resolve(),
      "--cacert",
      cacert,
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Verdict: ✔ allowed");
    expect(server.received.slice(before).map((r) => r.headers.host)).toEqual([
      `${HOST}:${server.port}`,
    ]);
  });

  it("without --resolve, says the name does not resolve and which --resolve reaches it", async () => {
    const run = await runCli(["--url", url(), "--origin", ORIGIN, "--cacert", cacert]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("ENOTFOUND");
    expect(run.stderr).toContain(`add --resolve ${HOST}:${server.port}:127.0.0.1`);
  });

  it("without --cacert, says the certificate is not trusted and how to trust it", async () => {
    const before = server.received.length;
    const run = await runCli(["--url", url(), "--origin", ORIGIN, "--resolve", resolve()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(run.stderr).toContain("--cacert <file.pem>");
    // The TLS handshake failed, so no request reached the server.
    expect(server.received.length).toBe(before);
  });

  it.each([
    [["--resolve", "other.example.com:443:127.0.0.1"], /no rule for api\.example\.invalid:\d+/],
    [["--resolve", "nonsense"], /expected <host>:<port>:<address>/],
    [["--cacert", "/nonexistent/cert.pem"], /--cacert: cannot read \/nonexistent\/cert\.pem/],
    [["--cacert", __filename], /holds no PEM certificate/],
  ])("%j is a usage error, and nothing is sent", async (extra, message) => {
    const before = server.received.length;
    const run = await runCli(["--url", url(), "--origin", ORIGIN, ...extra]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(server.received.length).toBe(before);
  });
});
