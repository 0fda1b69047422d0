import type * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import { BINDINGS, DEFAULT_UPSTREAM_TIMEOUT_MS } from "../worker/src/env";

type Binding = cloudflare.types.input.WorkersScriptBinding;
type Observability = cloudflare.types.input.WorkersScriptObservability;

export interface BindingValues {
  clientId: pulumi.Input<string>;
  clientSecret: pulumi.Input<string>;
  /** The Ed25519 private key (PKCS#8 PEM) that signs identity statements. */
  identitySigningKey: pulumi.Input<string>;
  apiHostname: pulumi.Input<string>;
  accessTeamDomain: pulumi.Input<string>;
  accessAud: pulumi.Input<string>;
  routePrefix: string;
  stripRoutePrefix: boolean;
  upstreamTimeoutMs: number;
  /** The Analytics Engine dataset the Worker counts requests in; absent or "" binds none. */
  analyticsDataset?: string;
}

/**
 * The proxy Worker's bindings. The names are the Worker's contract (see
 * worker/src); the token's two credentials and the identity signing key are
 * `secret_text`, the rest `plain_text`. Callers pass those already wrapped as secrets.
 */
export function buildBindings(values: BindingValues): Binding[] {
  return [
    { name: BINDINGS.clientId, type: "secret_text", text: values.clientId },
    { name: BINDINGS.clientSecret, type: "secret_text", text: values.clientSecret },
    { name: BINDINGS.identitySigningKey, type: "secret_text", text: values.identitySigningKey },
    { name: BINDINGS.apiHostname, type: "plain_text", text: values.apiHostname },
    { name: BINDINGS.teamDomain, type: "plain_text", text: values.accessTeamDomain },
    { name: BINDINGS.aud, type: "plain_text", text: values.accessAud },
    { name: BINDINGS.routePrefix, type: "plain_text", text: values.routePrefix },
    {
      name: BINDINGS.stripRoutePrefix,
      type: "plain_text",
      text: values.stripRoutePrefix ? "true" : "false",
    },
    // The Worker waits this long by default, so the binding is only sent to
    // change it, and a default stack has exactly the bindings above.
    ...(values.upstreamTimeoutMs === DEFAULT_UPSTREAM_TIMEOUT_MS
      ? []
      : [
          {
            name: BINDINGS.upstreamTimeoutMs,
            type: "plain_text",
            text: String(values.upstreamTimeoutMs),
          },
        ]),
    // Without a dataset the Worker counts nothing, and the binding is left out.
    ...(values.analyticsDataset === undefined || values.analyticsDataset === ""
      ? []
      : [{ name: BINDINGS.analytics, type: "analytics_engine", dataset: values.analyticsDataset }]),
  ];
}

/**
 * The Worker's Workers Logs: its log line per request and Cloudflare's
 * invocation logs, for `sampleRate` of the requests (head sampling, which
 * Cloudflare applies per request). The rate is given for the requests and
 * for their logs alike, so whichever of the two Cloudflare reads for logs
 * holds it. Off, it says so rather than leaving the account's default in place.
 */
export function buildObservability(workerLogs: boolean, sampleRate: number): Observability {
  return workerLogs
    ? {
        enabled: true,
        headSamplingRate: sampleRate,
        logs: { enabled: true, invocationLogs: true, headSamplingRate: sampleRate },
      }
    : { enabled: false, logs: { enabled: false, invocationLogs: false } };
}
