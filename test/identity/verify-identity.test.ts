/**
 * The verifier API authors import, on Node: what it accepts, and each way a
 * statement can fail it.
 */
import { generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, SignJWT } from "jose";
import { IdentityError, verifyIdentity } from "../../index";

const apiOrigin = "https://api.mysite.com";
const iss = "https://example.com";

async function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, kid, jwks: JSON.stringify({ keys: [{ ...jwk, kid, alg: "EdDSA" }] }) };
}

async function statement(
  key: { privateKey: unknown; kid: string },
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss,
    aud: apiOrigin,
    sub: "ada@example.com",
    email: "ada@example.com",
    iat: now,
    exp: now + 120,
    ...claims,
  })
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid, ...header })
    .sign(key.privateKey as Parameters<SignJWT["sign"]>[0]);
}

const request = (value?: string) =>
  new Request("https://api.mysite.com/items", {
    headers: value === undefined ? {} : { "X-Access-Bridge-Identity": value },
  });

let ours: Awaited<ReturnType<typeof keyPair>>;
let theirs: Awaited<ReturnType<typeof keyPair>>;
beforeAll(async () => {
  [ours, theirs] = await Promise.all([keyPair(), keyPair()]);
});

describe("verifyIdentity", () => {
  it("returns a person's identity from a Fetch Request", async () => {
    const who = await verifyIdentity(request(await statement(ours, {})), ours.jwks, {
      apiOrigin,
      issuer: iss,
    });
    expect(who).toMatchObject({
      kind: "person",
      sub: "ada@example.com",
      email: "ada@example.com",
      iss,
    });
  });

  it("returns a service token's identity, with no email, from Node's req.headers", async () => {
    const jws = await statement(ours, { sub: "0123.access", email: undefined });
    const who = await verifyIdentity(
      { headers: { "x-access-bridge-identity": jws } },
      JSON.parse(ours.jwks),
      {
        apiOrigin,
      },
    );
    expect(who).toEqual(expect.objectContaining({ kind: "service", sub: "0123.access" }));
    expect("email" in who).toBe(false);
  });

  it.each([
    [
      "signed with another key under our kid",
      async () => statement({ ...theirs, kid: ours.kid }, {}),
    ],
    ["signed with another key under its own kid", async () => statement(theirs, {})],
    ["for another API", async () => statement(ours, { aud: "https://api.other.com" })],
    ["from another front end", async () => statement(ours, { iss: "https://evil.example" })],
    ["expired", async () => statement(ours, { iat: 1_000_000, exp: 1_000_120 })],
    [
      "living longer than 120 s",
      async () => statement(ours, { exp: Math.floor(Date.now() / 1000) + 600 }),
    ],
    ["naming nobody", async () => statement(ours, { sub: "", email: undefined })],
    [
      "with an email that is not its subject",
      async () => statement(ours, { email: "eve@example.com" }),
    ],
    [
      "with alg none",
      async () => {
        const body = Buffer.from(
          JSON.stringify({ iss, aud: apiOrigin, sub: "x", iat: 1, exp: 2 }),
        ).toString("base64url");
        return `${Buffer.from('{"alg":"none"}').toString("base64url")}.${body}.`;
      },
    ],
  ])("refuses a statement %s", async (_, make) => {
    await expect(
      verifyIdentity(request(await make()), ours.jwks, { apiOrigin, issuer: iss }),
    ).rejects.toBeInstanceOf(IdentityError);
  });

  it("refuses a request without the header, or with it twice", async () => {
    await expect(verifyIdentity(request(), ours.jwks, { apiOrigin })).rejects.toThrow(
      /no x-access-bridge-identity header/,
    );
    const jws = await statement(ours, {});
    await expect(
      verifyIdentity({ headers: { "x-access-bridge-identity": [jws, jws] } }, ours.jwks, {
        apiOrigin,
      }),
    ).rejects.toThrow(/more than once/);
  });
});
