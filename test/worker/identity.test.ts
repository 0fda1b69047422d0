/**
 * The identity statement in the real Workers runtime, on the built bundle:
 * what the API receives verifies with the declared public key, for a person
 * and for a service token, and nothing the client sends takes its place.
 * The exported verifier runs in workerd too, as an API on Workers would run it.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import * as path from "node:path";
import type { Miniflare } from "miniflare";
import { SignJWT } from "jose";
import { verifyIdentity } from "../../identity/src";
import { startModuleWorker } from "../support/module-worker";
import { declareStack, named } from "../support/stacks";
import {
  API_HOSTNAME,
  baseBindings,
  claims,
  FRONTEND,
  identityKey,
  newSigningKey,
  signJwt,
  startWorker,
  type Harness,
} from "./harness";

const key = newSigningKey("key-1");

/** A statement naming `sub` under our kid, signed with `privateKey`: ours, or a stranger's. */
function statementSignedWith(privateKey: KeyObject, sub = "ada@mysite.com"): Promise<string> {
  return new SignJWT({ iss: FRONTEND, aud: `https://${API_HOSTNAME}`, sub, email: sub })
    .setProtectedHeader({ alg: "EdDSA", kid: identityKey.kid })
    .setIssuedAt()
    .setExpirationTime("2m")
    .sign(privateKey);
}
const apiOrigin = `https://${API_HOSTNAME}`;
const statementOf = (h: Harness, n = 0): string =>
  h.apiCalls[n]!.headers["x-access-bridge-identity"]!;
const decode = (jws: string) => ({
  header: JSON.parse(Buffer.from(jws.split(".")[0]!, "base64url").toString()),
  claims: JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString()),
});

describe("X-Access-Bridge-Identity", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({
      keys: [key],
      variants: { unsigned: { bindings: { ...baseBindings, IDENTITY_SIGNING_KEY: "" } } },
    });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  it("names a person, and verifies with the declared public key", async () => {
    expect(
      (await h.fetch("/api/items", { jwt: signJwt(key, claims({ email: "ada@mysite.com" })) }))
        .status,
    ).toBe(200);
    const jws = statementOf(h);
    const who = await verifyIdentity({ headers: h.apiCalls[0]!.headers }, identityKey.jwks, {
      apiOrigin,
      issuer: FRONTEND,
    });
    expect(who).toMatchObject({
      kind: "person",
      sub: "ada@mysite.com",
      email: "ada@mysite.com",
      iss: FRONTEND,
    });
    const { header, claims: c } = decode(jws);
    expect(header).toEqual({ alg: "EdDSA", kid: identityKey.kid, typ: "JWT" });
    expect(c.aud).toBe(apiOrigin);
    expect(c.iss).toBe(FRONTEND);
    expect(c.exp - c.iat).toBeLessThanOrEqual(120);
    expect(c.exp).toBeGreaterThan(Date.now() / 1000 + 60);
  });

  it("names a service token by its common name, with no email", async () => {
    const token = signJwt(key, claims({ email: undefined, common_name: "ci-bot.access", sub: "" }));
    expect((await h.fetch("/api/items", { jwt: token })).status).toBe(200);
    const who = await verifyIdentity({ headers: h.apiCalls[0]!.headers }, identityKey.jwks, {
      apiOrigin,
    });
    expect(who).toMatchObject({ kind: "service", sub: "ci-bot.access" });
    expect(decode(statementOf(h)).claims).not.toHaveProperty("email");
  });

  it("replaces whatever the client sends as the statement, in any spelling", async () => {
    const forged = await statementSignedWith(
      generateKeyPairSync("ed25519").privateKey,
      "admin@mysite.com",
    );
    const response = await h.fetch("/api/items", {
      jwt: signJwt(key, claims({ email: "ada@mysite.com" })),
      headers: { "X-Access-Bridge-Identity": forged, X_Access_Bridge_Identity: forged },
    });
    expect(response.status).toBe(200);
    const sent = h.apiCalls[0]!.headers;
    expect(
      Object.keys(sent).filter((n) => n.replaceAll("_", "-") === "x-access-bridge-identity"),
    ).toEqual(["x-access-bridge-identity"]);
    expect(sent["x-access-bridge-identity"]).not.toBe(forged);
    expect((await verifyIdentity({ headers: sent }, identityKey.jwks, { apiOrigin })).sub).toBe(
      "ada@mysite.com",
    );
    // The forged one, had it arrived, names the wrong person and fails on the key.
    await expect(
      verifyIdentity({ headers: { "x-access-bridge-identity": forged } }, identityKey.jwks, {
        apiOrigin,
      }),
    ).rejects.toThrow(/does not verify/);
  });

  it("reuses a person's statement between requests, and signs another person's anew", async () => {
    const ada = signJwt(key, claims({ email: "ada@mysite.com" }));
    const bob = signJwt(key, claims({ email: "bob@mysite.com" }));
    await h.fetch("/api/a", { jwt: ada });
    await h.fetch("/api/b", { jwt: ada });
    await h.fetch("/api/c", { jwt: bob });
    expect(statementOf(h, 1)).toBe(statementOf(h, 0));
    expect(statementOf(h, 2)).not.toBe(statementOf(h, 0));
    expect(decode(statementOf(h, 2)).claims.sub).toBe("bob@mysite.com");
  });

  it("refuses to forward anything without its signing key: 500, and the API is never called", async () => {
    const response = await h.fetch("/api/items", { jwt: signJwt(key), worker: "unsigned" });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toMatch(/IDENTITY|PRIVATE/);
    expect(h.apiCalls).toHaveLength(0);
  });
});

describe("the key the program declares", () => {
  it("signs statements that verify with the stack's identityJwks output", async () => {
    const stack = await declareStack("dev");
    const bindings = named(stack, "access-bridge-worker").inputs.bindings as {
      name: string;
      text: string;
    }[];
    const signingKey = bindings.find((b) => b.name === "IDENTITY_SIGNING_KEY")!.text;
    const h = await startWorker({
      keys: [key],
      bindings: { ...baseBindings, IDENTITY_SIGNING_KEY: signingKey },
    });
    try {
      expect((await h.fetch("/api/items", { jwt: signJwt(key) })).status).toBe(200);
      const who = await verifyIdentity(
        { headers: h.apiCalls[0]!.headers },
        stack.outputs.identityJwks as string,
        {
          apiOrigin,
        },
      );
      expect(who.sub).toBe("ada@mysite.com");
    } finally {
      await h.dispose();
    }
  });
});

describe("verifyIdentity in a Worker", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    // An API on Workers, bundled as its author would bundle it.
    const entry = `
      import { verifyIdentity } from ${JSON.stringify(path.join(__dirname, "..", "..", "identity", "src", "index.ts"))};
      export default {
        async fetch(request, env) {
          try {
            const who = await verifyIdentity(request, env.IDENTITY_JWKS, { apiOrigin: ${JSON.stringify(apiOrigin)} });
            return Response.json(who);
          } catch (err) {
            return Response.json({ refused: err.name }, { status: 401 });
          }
        },
      };`;
    mf = await startModuleWorker(entry, __dirname, { IDENTITY_JWKS: identityKey.jwks });
  });
  afterAll(() => mf.dispose());

  const ask = async (statement: string) => {
    const response = await mf.dispatchFetch(`${apiOrigin}/items`, {
      headers: { "x-access-bridge-identity": statement },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("accepts a statement the Worker's key signed", async () => {
    const signed = await statementSignedWith(createPrivateKey(identityKey.pkcs8), "ada@mysite.com");
    expect(await ask(signed)).toEqual({
      status: 200,
      body: expect.objectContaining({ kind: "person", sub: "ada@mysite.com" }),
    });
  });

  it("refuses one signed with another key", async () => {
    const signed = await statementSignedWith(
      generateKeyPairSync("ed25519").privateKey,
      "ada@mysite.com",
    );
    expect(await ask(signed)).toEqual({ status: 401, body: { refused: "IdentityError" } });
  });
});
