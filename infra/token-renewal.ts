/**
 * How to renew the service token for certain: the API's refresh call, which
 * Cloudflare documents as refreshing the token's expiration. The provider never
 * calls it, so the expiry alert says it to whoever receives the warning.
 */

/** The runbook section the alert and the docs point at. */
export const renewalRunbook = "docs/runbooks.md#renew-the-service-token-before-it-expires";

/** The API call that renews one token: needs an API token with Access: Service Tokens Edit. */
export function renewalRequest(accountId: string, tokenId: string): string {
  return `POST https://api.cloudflare.com/client/v4/accounts/${accountId}/access/service_tokens/${tokenId}/refresh`;
}

/** What the expiry alert says: the call for each token it warns about, then the runbook. */
export function expiryAlertDescription(accountId: string, tokenIds: readonly string[]): string {
  const calls = tokenIds.map((id) => renewalRequest(accountId, id)).join("; ");
  return (
    `Renew before expiry with ${calls} ` +
    `(API token permission Access: Service Tokens Edit), then pulumi refresh. See ${renewalRunbook}`
  );
}
