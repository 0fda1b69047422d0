/**
 * The key the Worker signs identity statements with: declared with
 * @pulumi/tls, its private half only in a secret binding, its public half in
 * the identityJwks output, replaced by raising identityKeyVersion.
 */
import { createPublicKey } from "node:crypto";
import {
  CompactSign,
  calculateJwkThumbprint,
  compactVerify,
  createLocalJWKSet,
  importPKCS8,
} from "jose";
import { buildIdentityJwks, jwkOf, PREVIOUS_KEY_GRACE_HOURS } from "../../infra/identity-keys";
import { declareStack, ed25519KeyPair, named, type DeclaredStack } from "../support/stacks";

type Jwks = { keys: { kty: string; crv: string; x: string; kid: string; alg: string }[] };
const jwksOf = (stack: DeclaredStack): Jwks =>
  JSON.parse(stack.outputs.identityJwks as string) as Jwks;
const signingKeyOf = (stack: DeclaredStack): string =>
  (named(stack, "access-bridge-worker").inputs.bindings as { name: string; text: string }[]).find(
    (b) => b.name === "IDENTITY_SIGNING_KEY",
  )!.text;

async function signWith(pkcs8: string, kid: string): Promise<string> {
  const key = await importPKCS8(pkcs8, "EdDSA");
  return new CompactSign(new TextEncoder().encode("{}"))
    .setProtectedHeader({ alg: "EdDSA", kid })
    .sign(key);
}

describe("the identity key", () => {
  let stack: DeclaredStack;
  beforeAll(async () => {
    stack = await declareStack("dev");
  });

  it("is one Ed25519 key from @pulumi/tls, version 1 by default", () => {
    const keys = stack.resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey");
    expect(keys.map((k) => [k.name, k.inputs])).toEqual([
      ["access-bridge-identity-key-v1", { algorithm: "ED25519" }],
    ]);
    expect(keys[0]!.options.parent).toBe("access-bridge");
  });

  it("is published as a JWKS with one OKP/Ed25519 key whose kid is its RFC 7638 thumbprint", async () => {
    const jwks = jwksOf(stack);
    expect(jwks.keys).toHaveLength(1);
    const [key] = jwks.keys;
    expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(key!.kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: key!.x }));
    expect(stack.secretOutputs).not.toContain("identityJwks");
  });

  it("matches the private key in the Worker's secret binding: what it signs verifies with the JWKS", async () => {
    const jwks = jwksOf(stack);
    const token = await signWith(signingKeyOf(stack), jwks.keys[0]!.kid);
    const { protectedHeader } = await compactVerify(token, createLocalJWKSet(jwks as never));
    expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid);
    expect(JSON.stringify(stack.outputs)).not.toContain("PRIVATE KEY");
  });

  it("is replaced by raising identityKeyVersion, the previous key still published for a while", async () => {
    const rotated = await declareStack("dev", { config: { identityKeyVersion: 2 } });
    const keys = rotated.resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey");
    expect(keys.map((k) => k.name).sort()).toEqual([
      "access-bridge-identity-key-v1",
      "access-bridge-identity-key-v2",
    ]);
    expect(signingKeyOf(rotated)).toBe(
      named(rotated, "access-bridge-identity-key-v2").state.privateKeyPemPkcs8,
    );
    expect(signingKeyOf(rotated)).not.toBe(signingKeyOf(stack));
    // The old key keeps its logical name, so it is kept, not replaced.
    expect(named(rotated, "access-bridge-identity-key-v1").state.publicKeyPem).toBe(
      named(stack, "access-bridge-identity-key-v1").state.publicKeyPem,
    );
    const kids = jwksOf(rotated).keys.map((k) => k.kid);
    expect(kids).toEqual([
      jwkOf(named(rotated, "access-bridge-identity-key-v2").state.publicKeyPem).kid,
      jwksOf(stack).keys[0]!.kid,
    ]);
  });

  it("can publish the next key ahead of the rotation, so an API trusts it before it signs anything", async () => {
    const ahead = await declareStack("dev", { config: { identityKeyPrepublish: true } });
    const kids = jwksOf(ahead).keys.map((k) => k.kid);
    expect(kids).toHaveLength(2);
    expect(kids[0]).toBe(jwksOf(stack).keys[0]!.kid);
    const after = await declareStack("dev", { config: { identityKeyVersion: 2 } });
    // The key published ahead is the one the Worker signs with after the rotation.
    expect(jwksOf(after).keys[0]!.kid).toBe(kids[1]);
  });
});

describe("buildIdentityJwks", () => {
  const [current, previous] = [
    ed25519KeyPair("a").publicKeyPem!,
    ed25519KeyPair("b").publicKeyPem!,
  ];
  const rotatedAt = 1_800_000_000;

  it("lists the previous key until the grace period after the rotation has passed", () => {
    const within = JSON.parse(buildIdentityJwks({ current, previous, rotatedAt }, rotatedAt + 60));
    expect(within.keys.map((k: { kid: string }) => k.kid)).toEqual([
      jwkOf(current).kid,
      jwkOf(previous).kid,
    ]);
    const after = JSON.parse(
      buildIdentityJwks(
        { current, previous, rotatedAt },
        rotatedAt + PREVIOUS_KEY_GRACE_HOURS * 3600,
      ),
    );
    expect(after.keys.map((k: { kid: string }) => k.kid)).toEqual([jwkOf(current).kid]);
  });

  it("reads a PEM public key as the JWK node:crypto exports", () => {
    const jwk = jwkOf(current);
    expect(
      createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" }).export({
        format: "pem",
        type: "spki",
      }),
    ).toBe(current);
  });
});
