/**
 * Runs the real Pulumi program (infra/index.ts) in-process under Pulumi's mocks
 * and records everything it declares, so tests and the local lab can read the
 * exact inputs Cloudflare would receive without any network or CLI.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumiModule from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { computedState, defaultServiceToken, tokenIssuer } from "./mock-state";
import { checkContract, ContractError, type Violation } from "./rules";
import { passphraseFromEnv, readStackFile } from "./stack-file";

export {
  defaultServiceToken,
  ed25519KeyPair,
  mockClientSecret,
  mockNow,
  mockTokenExpiresAt,
} from "./mock-state";

export interface DeclaredResource {
  type: string;
  name: string;
  id: string;
  // `any` keeps assertions on deeply nested provider inputs readable in tests.
  /** Inputs as the mocks saw them, with secrets unwrapped to plain values. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>;
  /** What the mocks returned: the inputs plus computed values (aud, clientSecret, hex, ...). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  state: Record<string, any>;
  /**
   * Paths into `inputs` the program sent as secret. The SDK marks the outermost
   * property that holds a secret, so a path may name a whole list (`bindings`);
   * use `isSecretAt` to ask about one value.
   */
  secretPaths: string[];
  /** Resource options as registered with the engine. */
  options: DeclaredOptions;
}

export interface DeclaredOptions {
  protect: boolean;
  /** Logical name of the parent resource, "" when parented to the stack. */
  parent: string;
  replaceOnChanges: string[];
  deleteBeforeReplace: boolean;
  /** The `import` id, for a resource adopted rather than created; "" otherwise. */
  importId: string;
  ignoreChanges: string[];
  /** Outputs the engine stores as secrets whatever the provider says, e.g. a token's clientId. */
  additionalSecretOutputs: string[];
  /**
   * Logical names of the resources each input's value came from: the data
   * edges Pulumi orders creation by (e.g. a route's `script` on the script).
   */
  propertyDependencies: Record<string, string[]>;
}

export interface DeclaredStack {
  project: string;
  stack: string;
  resources: DeclaredResource[];
  /** Stack outputs, resolved and with secrets unwrapped. */
  outputs: Record<string, unknown>;
  /** Names of the stack outputs that are secret. */
  secretOutputs: string[];
  /** What a real `pulumi preview` or `up` would refuse (see rules/); empty when enforced. */
  violations: Violation[];
  /** The stack file's secret keys, and those of them a stand-in replaced (no passphrase). */
  secrets: { keys: string[]; unread: string[] };
  /** The secret values the stack file held, decrypted: for scrubbing output, never for showing. */
  secretPlaintexts: string[];
}

export interface DeclareOptions {
  /**
   * Raw config values that override or add to stacks/Pulumi.<stack>.yaml, keyed
   * without the project prefix, e.g. { preflight: "origin", corsAllowedOrigins: ["https://a.example.com"] }.
   * A value of `undefined` removes the key (to test a missing required key).
   */
  config?: Record<string, unknown>;
  /**
   * Values the mocks return for the first service token declared; defaults are
   * fixed fake strings. Every further token gets credentials of its own, made
   * from these and its logical name, as Cloudflare issues each token its own.
   */
  serviceToken?: { clientId: string; clientSecret: string };
  /** The folder holding `Pulumi.<stack>.yaml`; defaults to the project's `stacks/`. */
  stacksDir?: string;
  /** A stack config file to read instead of `<stacksDir>/Pulumi.<stack>.yaml`. */
  configFile?: string;
  /**
   * `enforce` (the default) rejects with a ContractError when a declaration
   * breaks the provider contract; `report` returns the violations instead.
   */
  contract?: "enforce" | "report";
  /** The clock the contract checks dates against; default now. */
  now?: Date;
  /** The program to run instead of infra/index.ts, e.g. one that builds the component itself. */
  program?: string;
  /** Config keys (without the project prefix) to set as secrets, as `pulumi config set --secret` does. */
  secretKeys?: string[];
  /**
   * The passphrase that decrypts the stack file's `secure:` values; default
   * PULUMI_CONFIG_PASSPHRASE (or _FILE). Without one, each is replaced by a
   * stand-in that passes its key's check and named in `secrets.unread`.
   */
  passphrase?: string;
}

export const project = "access-bridge";
export const repoRoot = path.resolve(__dirname, "..");
const infraDir = path.join(repoRoot, "infra");
const programPath = path.join(infraDir, "index.ts");
/** Where the user's stack files live (`stackConfigDir` in Pulumi.yaml). */
export const defaultStacksDir = path.join(repoRoot, "stacks");

const secretSigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

let queue: Promise<unknown> = Promise.resolve();
let lastResources: DeclaredResource[] = [];

/**
 * Runs infra/index.ts in-process under pulumi.runtime.setMocks with the stack's
 * config and returns every resource it declared and the stack outputs.
 * Re-entrant: calls are queued, so many stacks can be declared in one process.
 * A config error rejects with the program's ConfigError, and nothing is declared.
 */
export function declareStack(stack: string, options: DeclareOptions = {}): Promise<DeclaredStack> {
  const run = queue.then(() => droppingExitHooks(() => runOnce(stack, options)));
  queue = run.catch(() => undefined);
  return run;
}

/** What the most recent `declareStack` call recorded, even if it rejected. */
export function resourcesFromLastRun(): DeclaredResource[] {
  return lastResources;
}

/** True when the input at `path` (e.g. `bindings[1].text`) was sent as a secret, itself or inside one. */
export function isSecretAt(resource: DeclaredResource, path: string): boolean {
  return resource.secretPaths.some(
    (p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`),
  );
}

/** All resources of one type; throws listing what was built when there are none. */
export function only(stack: DeclaredStack, type: string): DeclaredResource[] {
  const found = stack.resources.filter((r) => r.type === type);
  if (found.length === 0) {
    const built = stack.resources.map((r) => `${r.type} ${r.name}`).join("\n  ");
    throw new Error(`no resource of type ${type}; the program built:\n  ${built || "(nothing)"}`);
  }
  return found;
}

/** The single resource of a type; throws when there is not exactly one. */
export function one(stack: DeclaredStack, type: string): DeclaredResource {
  const found = only(stack, type);
  if (found.length !== 1) {
    throw new Error(`expected one ${type}, got ${found.map((r) => r.name).join(", ")}`);
  }
  return found[0]!;
}

/** The resource with a logical name; throws listing names when absent. */
export function named(stack: DeclaredStack, name: string): DeclaredResource {
  const found = stack.resources.find((r) => r.name === name);
  if (!found) {
    throw new Error(
      `no resource named ${name}; built: ${stack.resources.map((r) => r.name).join(", ")}`,
    );
  }
  return found;
}

/**
 * The config the Pulumi CLI would hand the program for a stack: project-level
 * defaults from Pulumi.yaml, then stacks/Pulumi.<stack>.yaml (its secure
 * values decrypted, or stood in for), then overrides. Keys are returned
 * without the project prefix.
 */
export function stackConfig(
  stack: string,
  overrides: Record<string, unknown> = {},
  stackFile: string = stackFileOf(stack),
  passphrase: string | undefined = passphraseFromEnv(),
): Record<string, unknown> {
  return readStack(stackFile, overrides, passphrase).values;
}

function readStack(
  stackFile: string,
  overrides: Record<string, unknown>,
  passphrase: string | undefined,
): ReturnType<typeof readStackFile> {
  const projectFile = parseYaml(readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
    config?: Record<string, { default?: unknown }>;
  };
  const merged: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(projectFile.config ?? {})) {
    if (spec && typeof spec === "object" && "default" in spec) merged[key] = spec.default;
  }
  const file = readStackFile(stackFile, project, passphrase);
  Object.assign(merged, file.values);
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return { ...file, values: merged };
}

/** Where a stack's config file lives: `Pulumi.<stack>.yaml` in the stacks folder. */
export function stackFileOf(stack: string, stacksDir: string = defaultStacksDir): string {
  return path.join(stacksDir, `Pulumi.${stack}.yaml`);
}

/** The values the Pulumi CLI passes in PULUMI_CONFIG: strings, with structured values as JSON. */
function toEngineConfig(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    out[`${project}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

async function runOnce(stack: string, options: DeclareOptions): Promise<DeclaredStack> {
  const resources: DeclaredResource[] = [];
  lastResources = resources;
  const registeredOptions = new Map<string, DeclaredOptions>();
  const tokenFor = tokenIssuer(options.serviceToken ?? defaultServiceToken);
  const file = options.configFile ?? stackFileOf(stack, options.stacksDir);
  const read = readStack(
    file,
    options.config ?? {},
    "passphrase" in options ? options.passphrase : passphraseFromEnv(),
  );
  const engineConfig = toEngineConfig(read.values);
  const secretKeys = [...new Set([...(options.secretKeys ?? []), ...read.secretKeys])];
  const program = options.program ?? programPath;

  const mocks: pulumiModule.runtime.Mocks = {
    newResource(args) {
      const secretPaths: string[] = [];
      const inputs = unwrapSecrets(args.inputs, "", secretPaths) as Record<string, unknown>;
      const id = `${args.name}-id`;
      const state = {
        ...inputs,
        ...computedState(args.type, args.name, inputs, () => tokenFor(args.name)),
      };
      const registered = registeredOptions.get(`${args.type}::${args.name}`);
      resources.push({
        type: args.type,
        name: args.name,
        id,
        inputs,
        state,
        secretPaths,
        options: registered ?? {
          protect: false,
          parent: "",
          replaceOnChanges: [],
          deleteBeforeReplace: false,
          importId: "",
          ignoreChanges: [],
          additionalSecretOutputs: [],
          propertyDependencies: {},
        },
      });
      // What the engine does and the SDK's mock monitor does not: the listed
      // outputs reach the program as secrets.
      const returned: Record<string, unknown> = { ...state };
      for (const key of registered?.additionalSecretOutputs ?? []) {
        if (key in returned) returned[key] = { [secretSigKey]: secretSig, value: returned[key] };
      }
      return { id, state: returned };
    },
    call(args) {
      throw new Error(`unmocked call to ${args.token}`);
    },
  };

  const loaded = withFreshProgram(require.resolve(program), (load) => {
    // The program must share the copy of the SDK that the mocks are installed on.
    const pulumi = load("@pulumi/pulumi") as typeof pulumiModule;
    void pulumi.runtime.setMocks(mocks, project, stack, false);
    recordOptions(load, registeredOptions);
    pulumi.runtime.setAllConfig(
      engineConfig,
      secretKeys.map((key) => `${project}:${key}`),
    );
    const settings = load("@pulumi/pulumi/runtime/settings") as {
      waitForRPCs?: () => Promise<void>;
    };
    const settle = async () => {
      await settings.waitForRPCs?.();
      await new Promise((r) => setImmediate(r));
    };
    try {
      return { pulumi, settle, programExports: load(program) as Record<string, unknown> };
    } catch (error) {
      return { pulumi, settle, error };
    }
  });
  const { pulumi, settle } = loaded;
  if ("error" in loaded) {
    await settle();
    throw loaded.error;
  }
  const { programExports } = loaded;

  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(programExports)) {
    if (key === "__esModule") continue;
    outputs[key] = await resolve(pulumi, value);
    if (await pulumi.isSecret(pulumi.output(value))) secretOutputs.push(key);
  }
  await settle();
  const violations = checkContract(resources, options.now);
  if (violations.length > 0 && (options.contract ?? "enforce") === "enforce") {
    throw new ContractError(violations);
  }
  return {
    project,
    stack,
    resources,
    outputs,
    secretOutputs,
    violations,
    secrets: { keys: read.secretKeys, unread: read.unread },
    secretPlaintexts: read.plaintexts,
  };
}

type Loader = (id: string) => unknown;

/**
 * Loads the program afresh on every call, then hands back the `require` it was
 * loaded with, so the mocks go onto the very SDK copy the program uses.
 * Outside jest (the lab, `npm run verify`), the program's modules are dropped
 * from Node's require cache and the SDK stays loaded. Jest's registry cannot
 * drop single modules, so there each run gets an isolated registry of its own,
 * and with it a copy of the SDK.
 */
function withFreshProgram<T>(program: string, run: (load: Loader) => T): T {
  // Jest hands `jest` to each module it loads rather than setting a global.
  if (typeof jest !== "undefined") {
    let result: T | undefined;
    jest.isolateModules(() => {
      result = run(require);
    });
    return result as T;
  }
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(infraDir + path.sep) || key === program) delete require.cache[key];
  }
  return run(require);
}

/**
 * Runs `body` and then removes the process exit hooks added meanwhile. Each
 * SDK copy a jest run loads hooks the exit with a promise-leak detector for
 * its own runtime, which is done with once the run has settled; left in place
 * they pile up, one per run.
 */
async function droppingExitHooks<T>(body: () => Promise<T>): Promise<T> {
  if (typeof jest === "undefined") return body();
  const before = new Set(process.listeners("exit"));
  try {
    return await body();
  } finally {
    for (const hook of process.listeners("exit")) {
      if (!before.has(hook)) process.removeListener("exit", hook);
    }
  }
}

/** Captures resource options, which the mocks API does not pass to newResource. */
function recordOptions(load: Loader, into: Map<string, DeclaredOptions>): void {
  const settings = load("@pulumi/pulumi/runtime/settings") as {
    getMonitor(): { registerResource(req: RegisterRequest, cb: unknown): unknown };
  };
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, cb: unknown) => {
    const parentUrn = req.getParent();
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, property) => {
      propertyDependencies[property] = deps.getUrnsList().map(nameOfUrn);
    });
    into.set(`${req.getType()}::${req.getName()}`, {
      protect: req.getProtect() === true,
      parent: parentUrn ? nameOfUrn(parentUrn) : "",
      replaceOnChanges: req.getReplaceonchangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      importId: req.getImportid(),
      ignoreChanges: req.getIgnorechangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      propertyDependencies,
    });
    return register(req, cb);
  };
}

/** The logical name at the end of a URN. */
const nameOfUrn = (urn: string): string => urn.split("::").pop() ?? "";

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProtect(): boolean | undefined;
  getReplaceonchangesList(): string[];
  getDeletebeforereplace(): boolean;
  getImportid(): string;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getPropertydependenciesMap(): {
    forEach(f: (deps: { getUrnsList(): string[] }, property: string) => void): void;
  };
}

function resolve(pulumi: typeof pulumiModule, value: unknown): Promise<unknown> {
  return new Promise((done) => {
    const output = pulumi.output(
      value as pulumiModule.Input<string>,
    ) as pulumiModule.Output<unknown>;
    output.apply((v) => {
      done(v);
      return v;
    });
  });
}

function unwrapSecrets(value: unknown, at: string, secretPaths: string[]): unknown {
  if (Array.isArray(value))
    return value.map((v, i) => unwrapSecrets(v, `${at}[${i}]`, secretPaths));
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[secretSigKey] === secretSig) {
      secretPaths.push(at);
      return unwrapSecrets(obj["value"], at, []);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      out[k] = unwrapSecrets(v, at ? `${at}.${k}` : k, secretPaths);
    }
    return out;
  }
  return value;
}
