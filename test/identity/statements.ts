/**
 * Statements signed as the Worker signs them, and a key set as the stack
 * publishes it: one table of cases that every verifier (the package from
 * Node, a Worker, Deno and Bun, and the Python and Go examples) must decide
 * alike, each accepted with the identity it names, or refused.
 */
import { createHmac, generateKeyPairSync, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import { buildIdentityJwks, jwkOf } from "../../infra/identity-keys";
import type { VerifiedIdentity } from "../../identity/src";
import { IdentitySigner } from "../../worker/src/identity-signer";

export const apiOrigin = "https://api.mysite.com";
export const frontEnd = "https://example.com";

export interface StatementCase {
  name: string;
  /** The header's value; empty when the request carried none. */
  statement: string;
  /** The header comes twice, each time with `statement`. */
  twice?: boolean;
  /** The identity a verifier must return, or `undefined` when it must refuse. */
  accepted?: VerifiedIdentity;
}

/** What a verifier under test reads: one key set, one API, the front ends it expects. */
export interface CaseInput {
  jwks: string;
  apiOrigin: string;
  issuers: string[];
  cases: { name: string; statement: string; twice?: boolean }[];
}

/** What it answers, case by case. */
export type CaseOutcome = { name: string } & (
  { identity: VerifiedIdentity; refused?: undefined } | { refused: string; identity?: undefined }
);

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const publicPem = publicKey.export({ format: "pem", type: "spki" }).toString();
  return {
    privateKey,
    publicPem,
    kid: jwkOf(publicPem).kid,
    signer: new IdentitySigner(privateKey.export({ format: "pem", type: "pkcs8" }).toString()),
  };
}

const claimsOf = (jws: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString());

/** A statement the Worker would never sign, for the refusals its signer cannot produce. */
function forged(
  privateKey: KeyObject,
  kid: string,
  claims: Record<string, unknown>,
  nowS: number,
): Promise<string> {
  return new SignJWT({
    iss: frontEnd,
    aud: apiOrigin,
    sub: "ada@example.com",
    email: "ada@example.com",
    iat: nowS,
    exp: nowS + 120,
    ...claims,
  })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
    .sign(privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * A fresh key set (the key the Worker signs with, and the next one published
 * ahead of a rotation) and the cases, signed now.
 */
export async function statementCases(): Promise<{ input: CaseInput; cases: StatementCase[] }> {
  const [current, next, stranger] = [newKey(), newKey(), newKey()];
  const jwks = buildIdentityJwks({ current: current.publicPem, next: next.publicPem }, 0);
  const nowS = Math.floor(Date.now() / 1000);
  const ada = { email: "ada@example.com" };

  const accepted = async (
    name: string,
    jws: Promise<string>,
    identity: Omit<VerifiedIdentity, "iat" | "exp">,
  ): Promise<StatementCase> => {
    const statement = await jws;
    const { iat, exp } = claimsOf(statement) as { iat: number; exp: number };
    return { name, statement, accepted: { ...identity, iat, exp } };
  };
  const refused = async (name: string, jws: Promise<string> | string): Promise<StatementCase> => ({
    name,
    statement: await jws,
  });

  const unsignedBody = b64({
    iss: frontEnd,
    aud: apiOrigin,
    sub: "ada@example.com",
    iat: nowS,
    exp: nowS + 120,
  });
  const hmacHeader = b64({ alg: "HS256", kid: current.kid, typ: "JWT" });
  // The classic confusion: the public key, which anyone has, used as an HMAC secret.
  const hmacSecret = (JSON.parse(jwks) as { keys: { x: string }[] }).keys[0]!.x;

  const person = await current.signer.sign(ada, frontEnd, apiOrigin, nowS);
  const cases = await Promise.all([
    accepted("a person's", Promise.resolve(person), {
      kind: "person",
      sub: "ada@example.com",
      email: "ada@example.com",
      iss: frontEnd,
    }),
    accepted(
      "a service token's",
      current.signer.sign({ commonName: "ci-bot.access" }, frontEnd, apiOrigin, nowS),
      { kind: "service", sub: "ci-bot.access", iss: frontEnd },
    ),
    accepted(
      "signed with the next key, published ahead of the rotation",
      next.signer.sign(ada, frontEnd, apiOrigin, nowS),
      { kind: "person", sub: "ada@example.com", email: "ada@example.com", iss: frontEnd },
    ),
    refused("empty", ""),
    { name: "sent twice", statement: person, twice: true },
    refused(
      "for another API",
      current.signer.sign(ada, frontEnd, "https://billing.mysite.com", nowS),
    ),
    refused(
      "from another front end",
      current.signer.sign(ada, "https://evil.example", apiOrigin, nowS),
    ),
    refused(
      "signed with a key not in the set",
      stranger.signer.sign(ada, frontEnd, apiOrigin, nowS),
    ),
    refused(
      "signed with another key under our kid",
      forged(stranger.privateKey, current.kid, {}, nowS),
    ),
    refused("expired", current.signer.sign(ada, frontEnd, apiOrigin, nowS - 600)),
    refused(
      "living longer than 120 s",
      forged(current.privateKey, current.kid, { exp: nowS + 600 }, nowS),
    ),
    refused(
      "naming nobody",
      forged(current.privateKey, current.kid, { sub: "", email: undefined }, nowS),
    ),
    refused(
      "with an email that is not its subject",
      forged(current.privateKey, current.kid, { email: "eve@example.com" }, nowS),
    ),
    refused("with alg none", `${b64({ alg: "none" })}.${unsignedBody}.`),
    refused(
      "with alg HS256, keyed by the public key",
      `${hmacHeader}.${unsignedBody}.${createHmac("sha256", hmacSecret).update(`${hmacHeader}.${unsignedBody}`).digest("base64url")}`,
    ),
  ]);
  return {
    input: {
      jwks,
      apiOrigin,
      issuers: [frontEnd],
      cases: cases.map(({ name, statement, twice }) => ({ name, statement, twice })),
    },
    cases,
  };
}

/** Each case's outcome in the form the table expects: the identity, or "refused". */
export function decisions(outcomes: CaseOutcome[]): [string, VerifiedIdentity | "refused"][] {
  return outcomes.map((o) => [o.name, o.identity ?? "refused"]);
}

/** The decisions every verifier must reach. */
export function expectedDecisions(
  cases: StatementCase[],
): [string, VerifiedIdentity | "refused"][] {
  return cases.map((c) => [c.name, c.accepted ?? "refused"]);
}
