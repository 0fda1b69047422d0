/**
 * What the recorder's mocks answer in the provider's place: the values
 * Cloudflare, random, tls and time would compute, derived from logical names
 * so every run of a declaration answers alike.
 */
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";

/** Fake service-token credentials the mocks hand out unless told otherwise. */
export const defaultServiceToken = {
  clientId: "mock-client-id.access",
  clientSecret: "mock-client-secret-3f9d2c7a1b",
};
/** The expiry the mocks report for every service token. */
export const mockTokenExpiresAt = "2027-11-25T00:00:00Z";
/** The clock the mocked time provider reads "now" from. */
export const mockNow = "2026-11-25T12:00:00Z";

/**
 * The client secret the mocks return for a token at a given secret version: a
 * new version yields a new secret, as Cloudflare does on rotation.
 */
export function mockClientSecret(base: string, version: number): string {
  return version > 1 ? `${base}-v${version}` : base;
}

interface TokenCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * Hands out a service token's credentials by its logical name: the first token
 * asked for gets `first`, every further one credentials of its own, as
 * Cloudflare issues each token its own.
 */
export function tokenIssuer(first: TokenCredentials): (name: string) => TokenCredentials {
  const tokens = new Map<string, TokenCredentials>();
  return (name) => {
    if (!tokens.has(name)) {
      // Derived, not appended, so no token's secret contains another's.
      const own = (what: string) => sha256(`${what}:${name}`).slice(0, 24);
      tokens.set(
        name,
        tokens.size === 0
          ? first
          : { clientId: `${own(first.clientId)}.access`, clientSecret: own(first.clientSecret) },
      );
    }
    return tokens.get(name)!;
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Values the provider would compute; derived from the name so runs are repeatable. */
export function computedState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  token: () => TokenCredentials,
): Record<string, unknown> {
  switch (type) {
    case "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication":
      return { aud: sha256(name) };
    case "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken": {
      const version =
        typeof inputs.clientSecretVersion === "number" ? inputs.clientSecretVersion : 1;
      const { clientId, clientSecret } = token();
      return {
        clientId,
        clientSecret: mockClientSecret(clientSecret, version),
        expiresAt: mockTokenExpiresAt,
      };
    }
    case "random:index/randomId:RandomId": {
      const bytes = typeof inputs.byteLength === "number" ? inputs.byteLength : 4;
      const hex = sha256(name).slice(0, bytes * 2);
      return {
        hex,
        dec: BigInt(`0x${hex}`).toString(10),
        b64Url: Buffer.from(hex, "hex").toString("base64url"),
      };
    }
    case "time:index/offset:Offset": {
      const base = typeof inputs.baseRfc3339 === "string" ? inputs.baseRfc3339 : mockNow;
      const hours = typeof inputs.offsetHours === "number" ? inputs.offsetHours : 0;
      const at = new Date(Date.parse(base) + hours * 3_600_000);
      return {
        baseRfc3339: base,
        rfc3339: at.toISOString().replace(/\.000Z$/, "Z"),
        unix: at.getTime() / 1000,
      };
    }
    case "tls:index/privateKey:PrivateKey":
      return ed25519KeyPair(name);
    case "time:index/static:Static": {
      // Created now, as the provider would on this update: the identity key's
      // grace period is counted from it against the real clock.
      const at =
        typeof inputs.rfc3339 === "string"
          ? inputs.rfc3339
          : new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
      return { rfc3339: at, unix: Date.parse(at) / 1000 };
    }
    default:
      return {};
  }
}

/**
 * A real Ed25519 key pair, the same for the same logical name: its seed is
 * the name's hash, so runs are repeatable and statements signed with it verify.
 */
export function ed25519KeyPair(name: string): Record<string, string> {
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes.
  const der = Buffer.concat([
    Buffer.from("302e020100300506032b657004220420", "hex"),
    createHash("sha256").update(`identity:${name}`).digest(),
  ]);
  const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const pkcs8 = key.export({ format: "pem", type: "pkcs8" }).toString();
  const publicKeyPem = createPublicKey(key).export({ format: "pem", type: "spki" }).toString();
  return { algorithm: "ED25519", privateKeyPemPkcs8: pkcs8, privateKeyPem: pkcs8, publicKeyPem };
}
