/**
 * A control channel for a lab run as a child process (the browser tests fork
 * `lab/start.ts` so that the program runs under plain Node, not jest's module
 * sandbox). Messages go over Node's IPC channel; nothing listens on the network.
 */
import { createHash } from "node:crypto";
import type { ApiJwtCheck, Lab } from "./lab";
import type { LogEntry } from "./log";

export interface ReadyMessage {
  type: "ready";
  port: number;
  hosts: string[];
  spki: string;
  frontendUrl: string;
  /** The lab's page with the guide's cases. */
  pageUrl: string;
  /** The service token's id (never its secret), to check what the API saw. */
  clientId: string;
  /** SHA-256 of the service token's secret (hex): an API's copy can be checked without the secret crossing over. */
  clientSecretSha256: string;
  /** What an API behind the lab verifies Cf-Access-Jwt-Assertion with. */
  apiJwt: ApiJwtCheck;
  /** The lab's certificate (PEM), for the doctor's --cacert. */
  certFile: string;
  /** The doctor command `npm start` prints for this lab. */
  doctor: string;
}

export type ControlRequest =
  { id: number; type: "use"; scenario: string } | { id: number; type: "log"; since: number };

export type ControlReply =
  | { id: number; type: "used"; frontendUrl: string; pageUrl: string; apiUrl: string }
  | { id: number; type: "log"; entries: LogEntry[]; last: number }
  | { id: number; type: "error"; message: string };

export function serveControl(
  lab: Lab,
  send: (message: ReadyMessage | ControlReply) => void,
  printed: Pick<ReadyMessage, "certFile" | "doctor">,
): void {
  send({
    type: "ready",
    port: lab.port,
    hosts: lab.hosts,
    spki: lab.certificate.spki,
    frontendUrl: lab.frontendUrl(),
    pageUrl: lab.pageUrl(),
    clientId: lab.serviceToken.clientId,
    clientSecretSha256: createHash("sha256").update(lab.serviceToken.clientSecret).digest("hex"),
    apiJwt: lab.apiJwt(),
    ...printed,
  });
  process.on("message", (raw: ControlRequest) => {
    void (async () => {
      try {
        if (raw.type === "use") {
          const active = await lab.use(raw.scenario);
          send({
            id: raw.id,
            type: "used",
            frontendUrl: lab.frontendUrl(),
            pageUrl: lab.pageUrl(),
            apiUrl: `https://${active.topology.api.hostname}/`,
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
