/**
 * Values Cloudflare's provider accepts, where the component picks one: the
 * component's checks and the offline checker's provider rules both read them
 * here, so the two cannot disagree about what Cloudflare takes.
 *
 * Spelled as the provider wants them, snake_case: the enums in
 * @pulumi/cloudflare's `.d.ts` are mangled by Pulumi's doc converter
 * (`nonIdentity`, `self*hosted`), and the provider refuses those spellings.
 */

/** An Access application's `type` (TFP zero_trust_access_application/schema.go L143-165). */
export const appTypes = [
  "self_hosted",
  "saas",
  "ssh",
  "vnc",
  "app_launcher",
  "warp",
  "biso",
  "bookmark",
  "dash_sso",
  "infrastructure",
  "rdp",
  "mcp",
  "mcp_portal",
  "proxy_endpoint",
] as const;

export type AppType = (typeof appTypes)[number];

/** The request methods an application's CORS settings accept (schema.go L215-234). */
export const corsMethods = [
  "GET",
  "POST",
  "HEAD",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
] as const;

export type CorsMethod = (typeof corsMethods)[number];

/** An Access policy's `decision` (TFP zero_trust_access_policy/schema.go L46-57). */
export const policyDecisions = ["allow", "deny", "non_identity", "bypass"] as const;

export type PolicyDecision = (typeof policyDecisions)[number];

/** Binding types @pulumi/cloudflare 6.22.1 documents (types/input.d.ts, WorkersScriptBinding.type), unmangled. */
export const bindingTypes = [
  "ai",
  "ai_search",
  "ai_search_namespace",
  "messaging",
  "analytics_engine",
  "artifacts",
  "assets",
  "browser",
  "d1",
  "data_blob",
  "dispatch_namespace",
  "durable_object_namespace",
  "hyperdrive",
  "inherit",
  "images",
  "json",
  "kv_namespace",
  "media",
  "mtls_certificate",
  "plain_text",
  "pipelines",
  "k2",
  "queue",
  "ratelimit",
  "r2_bucket",
  "secret_text",
  "send_email",
  "service",
  "text_blob",
  "vectorize",
  "version_metadata",
  "secrets_store_secret",
  "flagship",
  "secret_key",
  "workflow",
  "wasm_module",
  "vpc_service",
  "vpc_network",
] as const;

export type BindingType = (typeof bindingTypes)[number];
