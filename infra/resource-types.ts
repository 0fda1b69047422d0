/** The Pulumi type tokens of everything the stack declares. */
export const resourceTypes = {
  component: "access-bridge:index:AccessBridge",
  app: "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
  policy: "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
  token: "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken",
  script: "cloudflare:index/workersScript:WorkersScript",
  subdomain: "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain",
  route: "cloudflare:index/workersRoute:WorkersRoute",
  notification: "cloudflare:index/notificationPolicy:NotificationPolicy",
  randomId: "random:index/randomId:RandomId",
  privateKey: "tls:index/privateKey:PrivateKey",
  offset: "time:index/offset:Offset",
  static: "time:index/static:Static",
} as const;

export type ResourceKind = keyof typeof resourceTypes;

/** The short kind of a type token, e.g. `app`; undefined for a type this stack never declares. */
export function kindOf(type: string): ResourceKind | undefined {
  const entry = Object.entries(resourceTypes).find(([, token]) => token === type);
  return entry?.[0] as ResourceKind | undefined;
}
