import type * as cloudflare from "@pulumi/cloudflare";
import type { CorsConfig } from "./config";

type CorsHeaders = cloudflare.types.input.ZeroTrustAccessApplicationCorsHeaders;

/**
 * The API app's `corsHeaders`. A `["*"]` list becomes the matching `allowAll*`
 * flag; otherwise the list is sent and the flag is left out altogether, because
 * the API rejects `allowAll*: false` next to a list.
 */
export function buildCorsHeaders(cors: CorsConfig): CorsHeaders {
  const headers: CorsHeaders = { maxAge: cors.maxAge };
  // The provider refuses allowCredentials next to allowAllOrigins, even when
  // false; with all origins, credentials are off by validation anyway.
  if (isAll(cors.allowedOrigins)) headers.allowAllOrigins = true;
  else {
    headers.allowedOrigins = [...cors.allowedOrigins];
    headers.allowCredentials = cors.allowCredentials;
  }
  if (isAll(cors.allowedMethods)) headers.allowAllMethods = true;
  else headers.allowedMethods = [...cors.allowedMethods];
  if (isAll(cors.allowedHeaders)) headers.allowAllHeaders = true;
  else if (cors.allowedHeaders.length > 0) headers.allowedHeaders = [...cors.allowedHeaders];
  return headers;
}

function isAll(list: readonly string[]): boolean {
  return list.length === 1 && list[0] === "*";
}
