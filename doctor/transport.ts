/**
 * How the doctor reaches an API: one HTTP(S) request, no redirect followed,
 * with curl's two escape hatches for local or unusual set-ups:
 *
 * - `--resolve host:port:address` connects to `address` for `host:port`
 *   while the URL, the Host header, TLS's server name and the certificate
 *   check all keep the name (curl's semantics);
 * - `--cacert file` trusts the PEM certificates in `file` on top of the
 *   usual roots.
 *
 * Built on node:http(s) rather than fetch, whose connection options
 * (name resolution, trusted roots) are not reachable from Node's global fetch.
 */
import { isIP, type LookupFunction } from "node:net";
import http from "node:http";
import https from "node:https";
import { rootCertificates } from "node:tls";
import type { HeaderField, ResponseView } from "./cors-check";
import { MAX_WORKER_BODY, workerAnswerOf } from "./worker-answer";

export interface ResolveRule {
  host: string;
  port: number;
  /** An IPv4 or IPv6 address, without brackets. */
  address: string;
}

export interface ConnectOptions {
  resolve: ResolveRule[];
  /** PEM certificates to trust besides the usual roots. */
  ca?: string;
}

export interface OutgoingRequest {
  url: string;
  method: string;
  headers: HeaderField[];
  connect?: ConnectOptions;
  timeoutMs: number;
}

/** Sends one request and returns the status and headers, and whether the stack's Worker answered; the body is read and dropped. */
export type Transport = (request: OutgoingRequest) => Promise<ResponseView>;

/** A request that never got an HTTP answer: the code (`ENOTFOUND`, `ECONNREFUSED`…) and Node's message. */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

/** `host:port:address` as curl's --resolve takes it; an IPv6 address may be bracketed. */
export function parseResolve(arg: string): ResolveRule {
  const match = /^([^:\s]+):(\d{1,5}):(\[[0-9A-Fa-f:.]+\]|[^\s]+)$/.exec(arg);
  const port = Number(match?.[2]);
  const address = (match?.[3] ?? "").replace(/^\[(.*)\]$/, "$1");
  if (match === null || port < 1 || port > 65535 || isIP(address) === 0) {
    throw new Error(
      `--resolve: expected <host>:<port>:<address> as curl takes it, e.g. api.example.com:443:127.0.0.1; got ${JSON.stringify(arg)}`,
    );
  }
  return { host: match[1]!.toLowerCase(), port, address };
}

/** The port a URL connects to, defaults included. */
export function urlPort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** The rule that applies to a URL, as curl matches them: same host name, same port. */
export function ruleFor(url: URL, rules: ResolveRule[]): ResolveRule | undefined {
  const host = url.hostname.toLowerCase();
  const port = urlPort(url);
  return rules.find((r) => r.host === host && r.port === port);
}

/** A dns.lookup stand-in that answers with the rule's address (Node may ask for one or for all). */
function fixedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return (_host, options, callback) => {
    if (options.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** Headers a page's fetch() always carries; added only when the command line did not set them. */
const DEFAULT_HEADERS: HeaderField[] = [
  { name: "Accept", value: "*/*" },
  { name: "User-Agent", value: "access-bridge-doctor" },
];

export const sendRequest: Transport = (out) => {
  const url = new URL(out.url);
  const rule = ruleFor(url, out.connect?.resolve ?? []);
  // An object, not a raw list: Node then adds Host itself, as a browser does.
  const headers: Record<string, string> = {};
  const add = (name: string, value: string): void => {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  };
  for (const h of out.headers) add(h.name, h.value);
  for (const d of DEFAULT_HEADERS) {
    if (!out.headers.some((h) => h.name.toLowerCase() === d.name.toLowerCase())) {
      add(d.name, d.value);
    }
  }
  // A page's fetch() with a method that carries a body sends a length even when empty.
  if (!["GET", "HEAD", "OPTIONS"].includes(out.method)) add("Content-Length", "0");
  const options: https.RequestOptions = {
    method: out.method,
    headers,
    // One connection per request, closed afterwards: nothing outlives the check.
    agent: false,
    ...(rule !== undefined ? { lookup: fixedLookup(rule.address) } : {}),
    ...(out.connect?.ca !== undefined ? { ca: [...rootCertificates, out.connect.ca] } : {}),
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise<ResponseView>((resolve, reject) => {
    const req = client.request(url, options, (res) => {
      const fields: HeaderField[] = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        fields.push({ name: res.rawHeaders[i]!.toLowerCase(), value: res.rawHeaders[i + 1]! });
      }
      // The body plays no part in CORS; reading it to the end releases the socket. A
      // short JSON one is kept, to say so when it is the stack's Worker answering itself.
      const json = /\bjson\b/i.test(res.headers["content-type"] ?? "");
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (json && size <= MAX_WORKER_BODY) chunks.push(chunk);
      });
      res.once("end", () => {
        const worker =
          json && size <= MAX_WORKER_BODY
            ? workerAnswerOf(Buffer.concat(chunks).toString("utf8"))
            : undefined;
        resolve({ status: res.statusCode ?? 0, headers: fields, ...(worker ? { worker } : {}) });
      });
      res.once("error", (err) => reject(toTransportError(err)));
    });
    req.setTimeout(out.timeoutMs, () => {
      req.destroy(new TransportError("ETIMEDOUT", "timed out"));
    });
    req.once("error", (err) => reject(toTransportError(err)));
    req.end();
  });
};

function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "ERROR";
  return new TransportError(code, typeof e.message === "string" ? e.message : String(err));
}

/** Codes that mean the server's certificate is not one this machine trusts. */
const UNTRUSTED_CERT = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
]);

/** What to do about a connection failure, in the doctor's flags. */
export function connectHint(code: string, url: URL, connect?: ConnectOptions): string | null {
  const hostPort = `${url.hostname}:${urlPort(url)}`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `${url.hostname} does not resolve here; to reach a local server (such as the lab) under this name, add --resolve ${hostPort}:127.0.0.1`;
  }
  if (UNTRUSTED_CERT.has(code)) {
    return connect?.ca !== undefined
      ? "the certificate given with --cacert did not sign the server's certificate"
      : "the server's certificate is not trusted here; give the certificate to trust with --cacert <file.pem> (the lab prints its own)";
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `the server's certificate does not cover ${url.hostname}; call the API by its name in --url and map the name to an address with --resolve ${hostPort}:<address>`;
  }
  return null;
}
