import type * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import { defaults } from "./config";

type Binding = cloudflare.types.input.WorkersScriptBinding;

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
}

/**
 * The proxy Worker's bindings. The names are the Worker's contract (see
 * worker/src); the token's two credentials and the identity signing key are
 * `secret_text`, the rest `plain_text`. Callers pass those already wrapped as secrets.
 */
export function buildBindings(values: BindingValues): Binding[] {
  return [
    { name: "CF_ACCESS_CLIENT_ID", type: "secret_text", text: values.clientId },
    { name: "CF_ACCESS_CLIENT_SECRET", type: "secret_text", text: values.clientSecret },
    { name: "IDENTITY_SIGNING_KEY", type: "secret_text", text: values.identitySigningKey },
    { name: "API_HOSTNAME", type: "plain_text", text: values.apiHostname },
    { name: "ACCESS_TEAM_DOMAIN", type: "plain_text", text: values.accessTeamDomain },
    { name: "ACCESS_AUD", type: "plain_text", text: values.accessAud },
    { name: "ROUTE_PREFIX", type: "plain_text", text: values.routePrefix },
    {
      name: "STRIP_ROUTE_PREFIX",
      type: "plain_text",
      text: values.stripRoutePrefix ? "true" : "false",
    },
    // The Worker waits this long by default, so the binding is only sent to
    // change it, and a default stack has exactly the bindings above.
    ...(values.upstreamTimeoutMs === defaults.upstreamTimeoutMs
      ? []
      : [
          {
            name: "UPSTREAM_TIMEOUT_MS",
            type: "plain_text",
            text: String(values.upstreamTimeoutMs),
          },
        ]),
  ];
}
