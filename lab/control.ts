/**
 * A control channel for a lab run as a child process (the browser tests fork
 * `lab/start.ts` so that the program runs under plain Node, not jest's module
 * sandbox). Messages go over Node's IPC channel; nothing listens on the network.
 */
import { createHash } from "node:crypto";
import type { ApiJwtCheck, Lab } from "./lab";
import type { LogEntry } from "./log";

/** One API of the lab, as a test checks what it received. */
export interface ReadyApi {
  hostname: string;
  routePrefix: string;
  /** Its Worker's service token's id (never its secret). */
  clientId: string;
  /** SHA-256 of that token's secret (hex). */
  clientSecretSha256: string;
  /** What this API verifies Cf-Access-Jwt-Assertion with. */
  apiJwt: ApiJwtCheck;
  /** The doctor command `npm start` prints for this API. */
  doctor: string;
}

export interface ReadyMessage {
  type: "ready";
  port: number;
  hosts: string[];
  spki: string;
  frontendUrl: string;
  /** The lab's page with the guide's cases. */
  pageUrl: string;
  /** The first API's service token's id (never its secret), to check what the API saw. */
  clientId: string;
  /** SHA-256 of the service token's secret (hex): an API's copy can be checked without the secret crossing over. */
  clientSecretSha256: string;
  /** What the first API behind the lab verifies Cf-Access-Jwt-Assertion with. */
  apiJwt: ApiJwtCheck;
  /** The lab's certificate (PEM), for the doctor's --cacert. */
  certFile: string;
  /** The doctor command `npm start` prints for the first API. */
  doctor: string;
  /** Every API, the first included, in order. */
  apis: ReadyApi[];
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

export type ControlRequest =
  { id: number; type: "use"; scenario: string } | { id: number; type: "log"; since: number };

export type ControlReply =
  | {
      id: number;
      type: "used";
      frontendUrl: string;
      pageUrl: string;
      /** The first API's root. */
      apiUrl: string;
      /** Every API's root, in order. */
      apiUrls: string[];
    }
  | { id: number; type: "log"; entries: LogEntry[]; last: number }
  | { id: number; type: "error"; message: string };

export function serveControl(
  lab: Lab,
  send: (message: ReadyMessage | ControlReply) => void,
  printed: { certFile: string; doctors: string[] },
): void {
  const active = lab.active();
  send({
    type: "ready",
    port: lab.port,
    hosts: lab.hosts,
    spki: lab.certificate.spki,
    frontendUrl: lab.frontendUrl(),
    pageUrl: lab.pageUrl(),
    clientId: lab.serviceToken.clientId,
    clientSecretSha256: sha256(lab.serviceToken.clientSecret),
    apiJwt: lab.apiJwt(),
    certFile: printed.certFile,
    doctor: printed.doctors[0] ?? "",
    apis: lab.serviceTokens().map((token, i) => ({
      hostname: token.hostname,
      routePrefix: active.topology.apis[i]!.routePrefix,
      clientId: token.clientId,
      clientSecretSha256: sha256(token.clientSecret),
      apiJwt: lab.apiJwt(token.hostname),
      doctor: printed.doctors[i] ?? "",
    })),
  });
  process.on("message", (raw: ControlRequest) => {
    void (async () => {
      try {
        if (raw.type === "use") {
          const used = await lab.use(raw.scenario);
          const apiUrls = used.topology.apis.map((a) => `https://${a.app.hostname}/`);
          send({
            id: raw.id,
            type: "used",
            frontendUrl: lab.frontendUrl(),
            pageUrl: lab.pageUrl(),
            apiUrl: apiUrls[0]!,
            apiUrls,
          });
        } else {
          send({ id: raw.id, type: "log", entries: lab.log.since(raw.since), last: lab.log.last });
        }
      } catch (err) {
        send({ id: raw.id, type: "error", message: (err as Error).message });
      }
    })();
  });
}
