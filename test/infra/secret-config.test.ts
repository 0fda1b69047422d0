import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { readStackFile, keyFor, SecretsError, scrub } from "../../checker/stack-file";
import { verify } from "../../checker/verify";
import { encryptValue, newEncryption } from "../support/pulumi-secrets";
import { resourceTypes } from "../../infra/resource-types";
import { declareStack, isSecretAt, only, repoRoot } from "../support/stacks";

const passphrase = "correct horse battery staple";
const { encryptionsalt, key } = newEncryption(passphrase);
const secure = (plain: string) => ({ secure: encryptValue(key, plain) });

/** Values no fixture or example holds, so that finding one in output means it leaked. */
const secretAccount = "5ec2e7acc0a1d5ec2e7acc0a1d5ec2e7";
const secretEmail = "night-shift@hidden-team.test";
const secretDomain = "hidden-team.test";
const secretOtherDomain = "contractors.hidden-team.test";

const plain = {
  frontendZoneId: "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
  frontendHostname: "portal.acme.test",
  apiHostname: "backend.acme-api.test",
  accessTeamDomain: "acme.cloudflareaccess.com",
  protect: true,
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "secret-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stack file as the CLI writes it after `config set --secret` and `config set --secret --path`. */
function stackFile(name: string, config: Record<string, unknown>): string {
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  const keyed = Object.fromEntries(
    Object.entries(config).map(([k, v]) => [`access-bridge:${k}`, v]),
  );
  writeFileSync(file, stringify({ encryptionsalt, config: keyed }));
  return file;
}

/** Both forms: a whole value set with --secret, and secret entries of a list set with --path. */
const bothForms = {
  ...plain,
  accountId: secure(secretAccount),
  allowedEmails: [secure(secretEmail), "ops@acme.test"],
  allowedEmailDomains: secure(JSON.stringify([secretDomain, secretOtherDomain])),
};

async function run(file: string, env: { PULUMI_CONFIG_PASSPHRASE?: string }) {
  const saved = process.env.PULUMI_CONFIG_PASSPHRASE;
  if (env.PULUMI_CONFIG_PASSPHRASE === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
  else process.env.PULUMI_CONFIG_PASSPHRASE = env.PULUMI_CONFIG_PASSPHRASE;
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await verify(["--stack", "sec", "--config-file", file], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    if (saved === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
    else process.env.PULUMI_CONFIG_PASSPHRASE = saved;
  }
}

const withoutApi = () => {
  const { frontendZoneId, frontendHostname, accessTeamDomain, protect } = plain;
  return { frontendZoneId, frontendHostname, accessTeamDomain, protect };
};

const secretsIn = (text: string) =>
  [secretAccount, secretEmail, secretDomain, secretOtherDomain, "night-shift"].filter((s) =>
    text.includes(s),
  );

describe("the passphrase provider's format", () => {
  it("opens a salt the Pulumi CLI wrote, with its passphrase only", () => {
    // From a stack file the CLI wrote, published with its passphrase in bincyber/pitfall's README.
    const written = "v1:GEHe83S30O0=:v1:s8vb7cVFSz64pUmv:Ff5AbbcbTSim8cBwDCQCwraGHEQQ/A==";
    expect(keyFor("pulumi", written)).toHaveLength(32);
    expect(() => keyFor("not-it", written)).toThrow(new SecretsError("incorrect passphrase"));
  });

  it("decrypts whole values and list entries, and marks each such key secret", () => {
    const read = readStackFile(stackFile("read", bothForms), "access-bridge", passphrase);
    expect(read.values.accountId).toBe(secretAccount);
    expect(read.values.allowedEmails).toEqual([secretEmail, "ops@acme.test"]);
    expect(JSON.parse(read.values.allowedEmailDomains as string)).toEqual([
      secretDomain,
      secretOtherDomain,
    ]);
    expect(read.secretKeys.sort()).toEqual(["accountId", "allowedEmailDomains", "allowedEmails"]);
    expect(read.unread).toEqual([]);
    // The entries of a list set whole are scrubbed one by one, as output shows them.
    expect(scrub(`a ${secretOtherDomain} b`, read.plaintexts)).toBe("a [secret] b");
  });

  it("without the passphrase, stands in for each secret and names its key", () => {
    const read = readStackFile(stackFile("unread", bothForms), "access-bridge", undefined);
    expect(read.unread.sort()).toEqual(["accountId", "allowedEmailDomains", "allowedEmails"]);
    expect(read.plaintexts).toEqual([]);
    expect(JSON.stringify(read.values)).not.toContain("v1:");
    expect(read.values.allowedEmails).toEqual([
      "unread-secret@unread-secret.invalid",
      "ops@acme.test",
    ]);
  });
});

describe("npm run verify on a stack file with secrets", () => {
  it("with the passphrase, checks the decrypted values and never prints them", async () => {
    const { code, out, err } = await run(stackFile("ok", bothForms), {
      PULUMI_CONFIG_PASSPHRASE: passphrase,
    });
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain(
      "Secrets: accountId, allowedEmails, allowedEmailDomains decrypted and checked (values not shown).",
    );
    expect(out).toMatch(/Provider contract: \d+ rules, no violations\./);
    // The people policy's include rules are printed, with the secret ones hidden.
    expect(out).toContain("email:[secret]");
    expect(out).toContain("email:ops@acme.test");
    expect(secretsIn(out)).toEqual([]);
  });

  it("with the passphrase, refuses a bad secret value by its key, without showing it", async () => {
    const file = stackFile("bad", {
      ...bothForms,
      allowedEmails: [secure("night-shift at hidden")],
    });
    const { code, out, err } = await run(file, { PULUMI_CONFIG_PASSPHRASE: passphrase });
    expect(code).toBe(1);
    expect(err).toContain("access-bridge:allowedEmails: is not valid (the value is a secret");
    expect(err).toContain("Nothing was declared.");
    expect(secretsIn(out + err)).toEqual([]);
  });

  it("never prints a secret that another key's message names", async () => {
    const file = stackFile("clash", {
      ...bothForms,
      frontendHostname: secure("portal.hidden-team.test"),
      apiHostname: "portal.hidden-team.test",
    });
    const { code, err } = await run(file, { PULUMI_CONFIG_PASSPHRASE: passphrase });
    expect(code).toBe(1);
    expect(err).toContain("access-bridge:apiHostname: must differ from frontendHostname");
    expect(err).not.toContain("portal.hidden-team.test");
  });

  it("without the passphrase, checks everything else, names what it could not, and exits 0", async () => {
    const { code, out, err } = await run(stackFile("nopass", bothForms), {});
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain(
      "Secrets not checked: accountId, allowedEmails, allowedEmailDomains (no PULUMI_CONFIG_PASSPHRASE",
    );
    expect(out).toContain("a real `pulumi preview` decrypts them and checks them");
    expect(out).toContain("domain=portal.acme.test");
    expect(out).not.toMatch(/v1:[A-Za-z0-9+/=]+:/);
  });

  it("without the passphrase, still fails on what else is wrong", async () => {
    const { code, err } = await run(
      stackFile("nopass-bad", { ...bothForms, corsMaxAge: 90000 }),
      {},
    );
    expect(code).toBe(1);
    expect(err).toContain("access-bridge:corsMaxAge: must be an integer between -1 and 86400");
  });

  it("without the passphrase, stands in for secrets inside each API's entry and inside peopleRules", async () => {
    const file = stackFile("nested", {
      ...withoutApi(),
      accountId: secretAccount.replace(/5/g, "6"),
      apis: [
        { hostname: secure("billing.hidden-team.test"), routePrefix: "/billing" },
        {
          hostname: secure("search.hidden-team.test"),
          routePrefix: "/search",
          corsAllowedOrigins: [secure("https://night-shift.hidden-team.test")],
        },
      ],
      peopleRules: { include: [{ email: { email: secure(secretEmail) } }] },
    });
    const read = readStackFile(file, "access-bridge", undefined);
    expect(read.unread.sort()).toEqual(["apis", "peopleRules"]);
    const { code, out, err } = await run(file, {});
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("Secrets not checked: apis, peopleRules (no PULUMI_CONFIG_PASSPHRASE");
    // The plain parts are still checked: both routes are declared under their own prefixes.
    expect(out).toContain("/billing/*");
    expect(out).toContain("/search/*");
    expect(out).not.toContain("hidden-team");

    const opened = await run(file, { PULUMI_CONFIG_PASSPHRASE: passphrase });
    expect(opened.err).toBe("");
    expect(opened.code).toBe(0);
    expect(opened.out).toContain(
      "Secrets: apis, peopleRules decrypted and checked (values not shown).",
    );
    expect(secretsIn(opened.out)).toEqual([]);
    expect(opened.out).not.toContain("hidden-team");
  });

  it("without the passphrase, still refuses a plain value next to a secret in an API's entry", async () => {
    const file = stackFile("nested-bad", {
      ...withoutApi(),
      accountId: secretAccount,
      allowedEmails: ["ops@acme.test"],
      apis: [
        {
          hostname: secure("billing.hidden-team.test"),
          routePrefix: "/billing",
          corsMaxAge: 90000,
        },
      ],
    });
    const { code, out, err } = await run(file, {});
    expect(code).toBe(1);
    expect(err).toContain("access-bridge:apis[0].corsMaxAge: is not valid");
    expect(err).toContain("Nothing was declared.");
    expect(out + err).not.toContain("hidden-team");
  });

  it("with a wrong passphrase, says so and exits 2", async () => {
    const { code, out, err } = await run(stackFile("wrong", bothForms), {
      PULUMI_CONFIG_PASSPHRASE: "not the passphrase",
    });
    expect(code).toBe(2);
    expect(err).toContain("cannot read the secrets in");
    expect(err).toContain("incorrect passphrase");
    expect(out).not.toContain("Declared");
  });

  it("runs as the npm script with the passphrase from the environment", () => {
    const result = spawnSync(
      "npm",
      [
        "run",
        "--silent",
        "verify",
        "--",
        "--stack",
        "sec",
        "--config-file",
        stackFile("cli", bothForms),
      ],
      {
        cwd: repoRoot,
        encoding: "utf8",
        env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: passphrase },
      },
    );
    expect(result.stdout).toContain("decrypted and checked");
    expect(result.status).toBe(0);
    expect(secretsIn(result.stdout + result.stderr)).toEqual([]);
  });
});

describe("secret config in the declaration", () => {
  it("reaches every resource that takes it as a secret input", async () => {
    const stack = await declareStack("sec", {
      configFile: stackFile("declare", bothForms),
      passphrase,
    });
    const people = only(stack, resourceTypes.policy).find((p) => p.inputs.decision === "allow")!;
    expect(people.inputs.includes).toEqual(
      expect.arrayContaining([
        { email: { email: secretEmail } },
        { emailDomain: { domain: secretDomain } },
      ]),
    );
    expect(isSecretAt(people, "includes")).toBe(true);
    for (const app of only(stack, resourceTypes.app)) {
      expect([app.name, app.inputs.accountId, isSecretAt(app, "accountId")]).toEqual([
        app.name,
        secretAccount,
        true,
      ]);
    }
  });
});

describe("the service token's client id", () => {
  it("is stored as a secret by every token, and reaches its Worker only as a secret binding", async () => {
    const stack = await declareStack("apis");
    const tokens = only(stack, resourceTypes.token);
    expect(tokens.length).toBeGreaterThan(1);
    for (const token of tokens) {
      expect([token.name, token.options.additionalSecretOutputs]).toEqual([
        token.name,
        expect.arrayContaining(["clientId"]),
      ]);
    }
    const clientIds = tokens.map((t) => t.state.clientId as string);
    for (const worker of only(stack, resourceTypes.script)) {
      const bindings = worker.inputs.bindings as { name: string; type: string; text: string }[];
      const n = bindings.findIndex((b) => b.name === "CF_ACCESS_CLIENT_ID");
      expect(bindings[n]).toMatchObject({ type: "secret_text", text: expect.any(String) });
      expect(clientIds).toContain(bindings[n]!.text);
      expect(isSecretAt(worker, `bindings[${n}].text`)).toBe(true);
    }
    // No output carries a client id, secret or not.
    const outputs = JSON.stringify(stack.outputs);
    for (const id of clientIds) expect(outputs).not.toContain(id);
  });

  it("reaches a program that reads it from the component as a secret", async () => {
    const stack = await declareStack("dev", {
      program: path.join(repoRoot, "test/fixtures/programs/client-ids.ts"),
    });
    expect(stack.outputs.firstClientId).toEqual(expect.stringMatching(/\.access$/));
    expect(stack.secretOutputs.sort()).toEqual(["firstClientId", "secondClientId"]);
  });
});
