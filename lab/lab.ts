/**
 * The local lab: one HTTPS server on 127.0.0.1 that plays every party of the
 * guide's set-up for the active scenario, routed by the request's host.
 *
 *   <team>.cloudflareaccess.com  the identity side (login, certs)      idp.ts
 *   <frontendHostname>           the front end's Access edge → each     edges.ts, workerd.ts
 *                                route's Worker, the lab's page under
 *                                /__lab/, else the demo page or
 *                                --frontend                             frontend-origin.ts
 *   each API's hostname          its Access edge → a demo API, or for   edges.ts, demo-api.ts
 *                                the first API --api                    api-origin.ts
 *
 * The same port answers plain HTTP with the team's signing keys, for an API
 * under development that verifies `Cf-Access-Jwt-Assertion`.
 *
 * startLab puts together the scenarios and the Workers they run
 * (scenario-runner.ts), the routing by host and the lab's endpoints
 * (routing.ts), and the server (server.ts), which joins a browser's
 * WebSocket to the one a Worker hands back (websocket.ts). Everything here is emulation;
 * the product (infra/, worker/) is only read, through what the program
 * declares.
 */
import { randomBytes } from "node:crypto";
import { sampleEmail } from "./access-rules";
import { userApi } from "./api-origin";
import { certsPath, sessionSeconds } from "./idp";
import { LabLog } from "./log";
import { loadPageAssets } from "./page-assets";
import { labRouter } from "./routing";
import { startScenarios, type ActiveScenario } from "./scenario-runner";
import type { Scenario } from "./scenarios";
import { serveLab } from "./server";
import type { LabCertificate } from "./tls";
import { newCertificate } from "./tls";
import { accessClaims, newKeySet, signToken } from "./tokens";
import { apiByHost, type LabApi, type LabTopology } from "./topology";
import { BINDINGS } from "../worker/src/env";

export interface LabOptions {
  /** The stack the scenarios are built on; default `dev`. */
  stack?: string;
  /** The stack's config file; default `stacks/Pulumi.<stack>.yaml`. */
  configFile?: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Supplies the TLS certificate for the lab's hosts; default a fresh in-memory one. */
  certificate?: (hosts: string[]) => Promise<LabCertificate>;
  /** The scenario to start with; default the first. */
  scenario?: string;
  /**
   * Called when a client ends the TLS handshake because it does not trust the
   * lab's certificate (a browser started without the lab's flags shows
   * NET::ERR_CERT_AUTHORITY_INVALID and the lab would otherwise see nothing).
   */
  onCertificateRefused?: (alert: string) => void;
  /** The user's front-end dev server, e.g. `http://localhost:5173`, served outside the route prefix. */
  frontend?: string;
  /** The user's API, e.g. `http://localhost:8080`, behind the first API's Access edge. */
  api?: string;
  /** Gets each Worker log line as the Worker wrote it, e.g. to print it in the terminal. */
  onWorkerLog?: (line: string) => void;
}

/** A token for one of the active scenario's API apps, as `cloudflared access token` would print one. */
export interface ApiToken {
  token: string;
  email: string;
  /** The API's host name. */
  host: string;
}

/** What an API behind the lab checks `Cf-Access-Jwt-Assertion` against. */
export interface ApiJwtCheck {
  /** The team's keys over plain HTTP on the lab's port, for a server that does not trust the lab's certificate. */
  certs: string;
  /** The team's usual certs URL, served by the lab over HTTPS. */
  teamCerts: string;
  issuer: string;
  /** The API app's AUD tag, as the program declared it. */
  audience: string;
}

/** A service token the lab's program run handed out, and the API whose Worker holds it. */
export interface ApiServiceToken {
  hostname: string;
  clientId: string;
  clientSecret: string;
}

export interface Lab {
  port: number;
  hosts: string[];
  certificate: LabCertificate;
  scenarios: Scenario[];
  log: LabLog;
  /** The first API's service token, the one the lab's program run was given, to check what the API saw. */
  serviceToken: { clientId: string; clientSecret: string };
  /** Every API's service token, in the order of the APIs. */
  serviceTokens(): ApiServiceToken[];
  active(): ActiveScenario;
  use(name: string): Promise<ActiveScenario>;
  /** `https://<frontendHostname>/` of the active scenario. */
  frontendUrl(): string;
  /** The lab's page: `/__lab/` when the front end is the user's, else the front end's root. */
  pageUrl(): string;
  /** The user's servers the lab stands in front of, as given. */
  upstreams: { frontend?: string; api?: string };
  /** How an API (by default the first) verifies the assertions Access sends it, for the active scenario. */
  apiJwt(hostname?: string): ApiJwtCheck;
  /** A person's token for an API app (by default the first) of the active scenario, valid while this lab runs. */
  apiToken(hostname?: string): ApiToken;
  close(): Promise<void>;
}

/** The API with a host name, or the first; an unknown name is a mistake worth naming. */
function apiNamed(t: LabTopology, hostname?: string): LabApi {
  if (hostname === undefined) return t.apis[0]!;
  const api = apiByHost(t, hostname);
  if (!api)
    throw new Error(
      `no API ${hostname} in this lab; its APIs: ${t.apis.map((a) => a.app.hostname).join(", ")}`,
    );
  return api;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const serviceToken = {
    clientId: `${randomBytes(8).toString("hex")}.access`,
    clientSecret: randomBytes(32).toString("hex"),
  };
  const keys = newKeySet();
  const log = new LabLog(options.onWorkerLog);
  const upstreams = {
    ...(options.frontend !== undefined ? { frontend: options.frontend } : {}),
    ...(options.api !== undefined ? { api: options.api } : {}),
  };
  const page = await loadPageAssets();
  const runner = await startScenarios({
    stack: options.stack ?? "dev",
    configFile: options.configFile,
    serviceToken,
    keys,
    log,
    certificate: options.certificate ?? newCertificate,
    userApi: options.api !== undefined ? userApi(options.api, log) : undefined,
  });
  const router = labRouter({ runner, log, page, upstreams });
  const topology = (): LabTopology => runner.active().topology;
  const pageUrl = (): string => router.pageUrl(topology());
  await runner.use(options.scenario ?? runner.scenarios[0]!.name);

  const listener = await serveLab({
    port: options.port ?? 0,
    certificate: runner.certificate,
    keys,
    log,
    router,
    frontend: options.frontend,
    pageUrl,
    onCertificateRefused: options.onCertificateRefused,
  });
  const port = listener.port;

  return {
    port,
    hosts: [...runner.hosts].sort(),
    certificate: runner.certificate,
    scenarios: runner.scenarios,
    log,
    serviceToken,
    serviceTokens: () =>
      topology().apis.map((a) => ({
        hostname: a.app.hostname,
        clientId: a.worker.bindings[BINDINGS.clientId] ?? "",
        clientSecret: a.worker.bindings[BINDINGS.clientSecret] ?? "",
      })),
    active: runner.active,
    use: runner.use,
    frontendUrl: () => `https://${topology().frontend.hostname}/`,
    pageUrl,
    upstreams,
    apiJwt(hostname) {
      const t = topology();
      return {
        certs: `http://127.0.0.1:${port}${certsPath}`,
        teamCerts: `https://${t.teamDomain}${certsPath}`,
        issuer: `https://${t.teamDomain}`,
        audience: apiNamed(t, hostname).app.aud,
      };
    },
    apiToken(hostname) {
      const t = topology();
      const { app } = apiNamed(t, hostname);
      const email = sampleEmail(app.access);
      // A person who logged in as the app's policy requires, second factor included.
      const amr = app.access.requireMfa ? ["pwd", "mfa"] : ["pwd"];
      const claims = accessClaims(t.teamDomain, app.aud, { email, amr }, sessionSeconds);
      return { token: signToken(keys, claims), email, host: app.hostname };
    },
    async close() {
      await listener.close();
      await runner.close();
    },
  };
}
