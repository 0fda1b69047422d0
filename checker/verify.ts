/**
 * `npm run verify -- --stack <name> [--config-file <path>]`
 *
 * Runs the real program for a stack under Pulumi's mocks, prints what it
 * would declare and holds every declaration to the provider contract. No
 * Cloudflare account and no Pulumi CLI are needed, so a fork's pull request
 * or a machine without credentials still gets a real answer.
 *
 * A stack file's `secure:` values are decrypted with PULUMI_CONFIG_PASSPHRASE
 * (or _FILE) and checked like the rest; without it, each is replaced by a
 * value that passes its key's check, and the output names those keys. No
 * secret value is ever printed, decrypted or not.
 *
 * Exit codes: 0 clean, 1 a config mistake or a contract violation, 2 usage
 * or secrets that cannot be read with the passphrase given.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../infra/config";
import { contractRules, formatViolation } from "./rules";
import {
  declareStack,
  project,
  stackFileOf,
  type DeclaredResource,
  type DeclaredStack,
} from "./recorder";
import { kindOf } from "../infra/resource-types";
import { passphraseFromEnv, readStackFile, scrub, SecretsError } from "./stack-file";
import { BINDINGS } from "../worker/src/env";

export const usage = "usage: npm run verify -- --stack <name> [--config-file <path>]";

export interface VerifyArgs {
  stack: string;
  configFile: string;
}

/** A mistake on the command line: reported with the usage, exit code 2. */
export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): VerifyArgs {
  let stack: string | undefined;
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split("=", 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "--stack" || flag === "-s") stack = value();
    else if (flag === "--config-file") configFile = value();
    else throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
  }
  if (stack === undefined) throw new UsageError("--stack is required");
  return { stack, configFile: configFile ?? stackFileOf(stack) };
}

const shortType = (type: string): string => type.split(":").pop() ?? type;

/** The inputs a reviewer checks for each kind of resource, as `key=value` text; secrets never shown. */
function keyInputs(r: DeclaredResource, nameOfId: (id: unknown) => string): string {
  const i = r.inputs;
  const list = (v: unknown): string => (Array.isArray(v) ? v.join(",") : String(v));
  const parts: [string, unknown][] = [];
  switch (kindOf(r.type)) {
    case "app":
      parts.push(["name", i.name], ["domain", i.domain], ["type", i.type]);
      parts.push(["sessionDuration", i.sessionDuration]);
      parts.push([
        "policies",
        (i.policies as { id: string; precedence: number }[] | undefined)
          ?.map((p) => `${p.precedence}:${nameOfId(p.id)}`)
          .join(" "),
      ]);
      if (i.allowedIdps !== undefined) parts.push(["allowedIdps", list(i.allowedIdps)]);
      if (i.autoRedirectToIdentity !== undefined)
        parts.push(["autoRedirectToIdentity", i.autoRedirectToIdentity]);
      if (i.optionsPreflightBypass !== undefined)
        parts.push(["optionsPreflightBypass", i.optionsPreflightBypass]);
      if (i.corsHeaders !== undefined) {
        const c = i.corsHeaders as Record<string, unknown>;
        parts.push(["cors.origins", c.allowAllOrigins ? "*" : list(c.allowedOrigins)]);
        parts.push(["cors.methods", c.allowAllMethods ? "*" : list(c.allowedMethods)]);
        parts.push([
          "cors.headers",
          c.allowAllHeaders ? "*" : c.allowedHeaders ? list(c.allowedHeaders) : "(none)",
        ]);
        parts.push(["cors.credentials", c.allowCredentials ?? "(unset)"]);
        parts.push(["cors.maxAge", c.maxAge]);
      }
      break;
    case "policy":
      parts.push(
        ["name", i.name],
        ["decision", i.decision],
        ["sessionDuration", i.sessionDuration],
      );
      for (const [label, list] of [
        ["include", i.includes],
        ["require", i.requires],
        ["exclude", i.excludes],
      ] as const) {
        if (label !== "include" && list === undefined) continue;
        parts.push([
          label,
          (list as Record<string, Record<string, unknown>>[] | undefined)
            ?.map((rule) =>
              Object.entries(rule)
                .map(([selector, v]) => `${selector}:${Object.values(v).map(nameOfId).join("/")}`)
                .join(""),
            )
            .join(" "),
        ]);
      }
      break;
    case "token":
      parts.push(["name", i.name], ["duration", i.duration]);
      parts.push(["clientSecretVersion", i.clientSecretVersion ?? "(provider default, 1)"]);
      if (i.previousClientSecretExpiresAt !== undefined)
        parts.push(["previousClientSecretExpiresAt", i.previousClientSecretExpiresAt]);
      break;
    case "script": {
      const content = typeof i.content === "string" ? i.content : "";
      parts.push(["scriptName", i.scriptName], ["mainModule", i.mainModule]);
      parts.push(["compatibilityDate", i.compatibilityDate]);
      parts.push(["content", `${Buffer.byteLength(content)} bytes`]);
      parts.push([
        "bindings",
        (i.bindings as { name: string; type: string }[] | undefined)
          ?.map((b) => `${b.name}(${b.type})`)
          .join(" "),
      ]);
      break;
    }
    case "subdomain":
      parts.push(["enabled", i.enabled], ["previewsEnabled", i.previewsEnabled]);
      break;
    case "route":
      parts.push(["pattern", i.pattern], ["script", i.script]);
      break;
    case "notification":
      parts.push(["name", i.name], ["alertType", i.alertType]);
      parts.push([
        "emails",
        (i.mechanisms as { emails?: { id: string }[] } | undefined)?.emails
          ?.map((e) => e.id)
          .join(","),
      ]);
      break;
    case "randomId":
      parts.push(["byteLength", i.byteLength]);
      break;
    case "offset":
      parts.push(["offsetHours", i.offsetHours]);
      break;
  }
  return parts
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join("  ");
}

/** The declaration as a reviewer reads it: one block per resource, in declaration order. */
export function renderDeclaration(stack: DeclaredStack): string {
  const byId = new Map(stack.resources.map((r) => [r.id, r.name]));
  const nameOfId = (id: unknown): string => byId.get(String(id)) ?? String(id);
  const lines = [`Declared (${stack.resources.length} resources):`];
  for (const r of stack.resources) {
    const flags = r.options.protect ? " [protected]" : "";
    lines.push(`  ${r.name}  ${shortType(r.type)}${flags}`);
    const inputs = keyInputs(r, nameOfId);
    if (inputs !== "") lines.push(`      ${inputs}`);
  }
  return lines.join("\n");
}

/**
 * Where each route's requests go: the route, the API its Worker forwards to,
 * and the Worker; one line each, so a stack with several APIs reads at a glance.
 */
export function renderRoutes(stack: DeclaredStack): string {
  const scripts = stack.resources.filter((r) => kindOf(r.type) === "script");
  const routes = stack.resources.filter((r) => kindOf(r.type) === "route");
  const lines = [`Routes (${routes.length}):`];
  for (const route of routes) {
    const script = scripts.find((s) => s.inputs.scriptName === route.inputs.script);
    const bindings = (script?.inputs.bindings ?? []) as { name: string; text?: unknown }[];
    const api = bindings.find((b) => b.name === BINDINGS.apiHostname)?.text;
    lines.push(
      script
        ? `  ${String(route.inputs.pattern)}  →  https://${String(api)}  (Worker ${String(script.inputs.scriptName)})`
        : `  ${String(route.inputs.pattern)}  →  a Worker this stack does not declare (adopted route)`,
    );
  }
  return lines.join("\n");
}

export interface Printer {
  out(text: string): void;
  err(text: string): void;
}

/** Runs the check; returns the exit code. `declare` is the recorder, replaceable in tests. */
export async function verify(
  argv: readonly string[],
  print: Printer,
  declare: typeof declareStack = declareStack,
): Promise<number> {
  let args: VerifyArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    print.err(`verify: ${err.message}\n${usage}`);
    return 2;
  }
  const where = path.relative(process.cwd(), args.configFile) || args.configFile;
  if (!existsSync(args.configFile)) {
    print.err(
      `verify: there is no stack file ${where}; ` +
        `create it with \`npx pulumi stack init ${args.stack}\` and \`npx pulumi config set ...\`, or pass --config-file`,
    );
    return 2;
  }

  let plaintexts: string[];
  try {
    plaintexts = readStackFile(args.configFile, project, passphraseFromEnv()).plaintexts;
  } catch (err) {
    if (!(err instanceof SecretsError)) throw err;
    print.err(
      `verify: cannot read the secrets in ${where}: ${err.message}. ` +
        "Set PULUMI_CONFIG_PASSPHRASE to the stack's passphrase, or unset it to check everything else.",
    );
    return 2;
  }
  // Whatever a message or a resource's inputs show, a secret's value is never printed.
  const out = (text: string) => print.out(scrub(text, plaintexts));
  const err = (text: string) => print.err(scrub(text, plaintexts));

  out(`access-bridge verify: stack ${args.stack} (${where}), offline under Pulumi's mocks`);
  out("(ids, AUD tags and the script name's random suffix are the mocks' stand-ins)");
  let stack: DeclaredStack;
  try {
    stack = await declare(args.stack, { configFile: args.configFile, contract: "report" });
  } catch (error) {
    // By name: the program may run on its own copy of the module (see the recorder).
    if (error instanceof Error && error.name === ConfigError.name) {
      err(`${error.message}\nNothing was declared.`);
      return 1;
    }
    throw error;
  }
  out("");
  out(renderSecrets(stack));
  out(renderDeclaration(stack));
  out("");
  out(renderRoutes(stack));
  out("");
  const rules = contractRules().length;
  if (stack.violations.length === 0) {
    out(`Provider contract: ${rules} rules, no violations.`);
    return 0;
  }
  err(
    `Provider contract: ${stack.violations.length} violation(s) of ${rules} rules; ` +
      `a real \`pulumi preview\` or \`up\` would refuse this stack:\n` +
      stack.violations.map(formatViolation).join("\n"),
  );
  return 1;
}

/** Which keys are secrets, and which of them could not be checked without the passphrase. */
export function renderSecrets(stack: DeclaredStack): string {
  const { keys, unread } = stack.secrets;
  if (keys.length === 0) return "";
  const read = keys.filter((k) => !unread.includes(k));
  const lines: string[] = [];
  if (read.length > 0) {
    lines.push(`Secrets: ${read.join(", ")} decrypted and checked (values not shown).`);
  }
  if (unread.length > 0) {
    lines.push(
      `Secrets not checked: ${unread.join(", ")} (no PULUMI_CONFIG_PASSPHRASE to decrypt them). ` +
        "Stand-in values that pass their checks were used, so everything else is checked; " +
        "a real `pulumi preview` decrypts them and checks them with the same rules, naming the key.",
    );
  }
  return `${lines.join("\n")}\n`;
}

if (require.main === module) {
  verify(process.argv.slice(2), {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`verify: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
