/**
 * A stack's config file as the Pulumi CLI hands it to the program, `secure:`
 * values included. The passphrase secrets provider's format is Pulumi's own
 * (pulumi/pulumi `sdk/go/common/resource/config/crypt.go` and
 * `pkg/secrets/passphrase/manager.go`):
 *
 *   encryptionsalt: v1:<salt>:v1:<nonce>:<ciphertext>   the salt, and "pulumi" encrypted
 *   <key>: { secure: v1:<nonce>:<ciphertext> }           one value
 *
 * The key is PBKDF2-SHA256 of the passphrase and salt, 1,000,000 rounds, 32
 * bytes; each value is AES-256-GCM with a 12-byte nonce, the 16-byte tag after
 * the ciphertext, all base64.
 */
import { createDecipheriv, createHash, pbkdf2Sync } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { settings, type Setting } from "../infra/settings";

export interface StackFile {
  /** Every value by key, without the project's prefix; secure values decrypted, or stand-ins. */
  values: Record<string, unknown>;
  /** Keys that hold a secure value, whole or in part: the program gets them as secrets. */
  secretKeys: string[];
  /** Secret keys that could not be decrypted, so a stand-in (or the default) was checked instead. */
  unread: string[];
  /** Every decrypted plaintext, so that output can be scrubbed of them. */
  plaintexts: string[];
}

/** Why the file's secrets cannot be read: a wrong passphrase or a file this cannot decrypt. */
export class SecretsError extends Error {
  override name = "SecretsError";
}

/** The passphrase as the Pulumi CLI takes it; undefined when neither variable is set. */
export function passphraseFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  // The CLI reads the whole file; a trailing newline from an editor is not part of it.
  return file ? readFileSync(file, "utf8").replace(/\r?\n$/, "") : undefined;
}

const SALT_CHECK = "pulumi";
const ROUNDS = 1_000_000;

/** Decrypts one `v1:<nonce>:<ciphertext>` value with a derived key; throws on a bad value or key. */
export function decryptValue(key: Buffer, value: string): string {
  const parts = value.split(":");
  if (parts.length !== 3 || parts[0] !== "v1") throw new SecretsError("not a v1 secure value");
  const nonce = Buffer.from(parts[1]!, "base64");
  const sealed = Buffer.from(parts[2]!, "base64");
  if (nonce.length !== 12 || sealed.length < 16) throw new SecretsError("not a v1 secure value");
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, -16)), decipher.final()]).toString(
    "utf8",
  );
}

// Deriving a key takes about a second, and one run reads a stack file more than once.
const derived = new Map<string, Buffer>();

/** The key a passphrase gives for a stack's `encryptionsalt`, checked against its known message. */
export function keyFor(passphrase: string, encryptionSalt: string): Buffer {
  const memo = `${encryptionSalt}\0${createHash("sha256").update(passphrase).digest("hex")}`;
  const known = derived.get(memo);
  if (known) return known;
  const [version, salt, ...rest] = encryptionSalt.split(":");
  if (version !== "v1" || salt === undefined || rest.length !== 3) {
    throw new SecretsError("its encryptionsalt is not a v1 passphrase salt");
  }
  const key = pbkdf2Sync(passphrase, Buffer.from(salt, "base64"), ROUNDS, 32, "sha256");
  let check: string | undefined;
  try {
    check = decryptValue(key, rest.join(":"));
  } catch {
    check = undefined;
  }
  if (check !== SALT_CHECK) throw new SecretsError("incorrect passphrase");
  derived.set(memo, key);
  return key;
}

const isSecure = (value: unknown): value is { secure: string } =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  typeof (value as { secure?: unknown }).secure === "string";

const holdsSecure = (value: unknown): boolean =>
  isSecure(value) ||
  (Array.isArray(value) && value.some(holdsSecure)) ||
  (typeof value === "object" && value !== null && Object.values(value).some(holdsSecure));

type Path = readonly (string | number)[];

/** A key's stand-in in the settings table; undefined for a key it does not know. */
const standInOf = (key: string | number | undefined): unknown =>
  (settings as Record<string, Setting<unknown> | undefined>)[String(key)]?.standIn;

/** An entry's own fields differ between entries, so two unread ones never read as one. */
const entryStandIns: Record<string, (i: number) => string> = {
  hostname: (i) => `api-${i}.unread-secret.invalid`,
  routePrefix: (i) => `/unread-secret-${i}`,
  name: (i) => `unread-secret-${i}`,
};

/**
 * A value that passes the check at a path, standing in for a secret there that
 * cannot be read, so that everything else in the stack is still checked: the
 * setting's own stand-in, a list's first one for an entry of it, and for an
 * entry of `apis` its field's. Undefined where there is none: the whole key then
 * takes its setting's stand-in, or its default. A real preview checks the real value.
 */
function standInAt(path: Path): unknown {
  const [key, ...rest] = path;
  if (key === "apis" && typeof rest[0] === "number" && typeof rest[1] === "string") {
    const [index, field, ...inField] = rest;
    const own = entryStandIns[field];
    if (own) return inField.length === 0 ? own(index) : undefined;
    return listStandIn(standInOf(field), inField);
  }
  return listStandIn(standInOf(key), rest);
}

function listStandIn(standIn: unknown, rest: Path): unknown {
  if (rest.length === 0) return standIn;
  if (rest.length === 1 && typeof rest[0] === "number" && Array.isArray(standIn)) return standIn[0];
  return undefined;
}

/**
 * Reads a stack file's `config:` for a project. Plain values come as they are
 * written; secure ones are decrypted with the passphrase, or without it
 * replaced by a stand-in and named in `unread`. A key whose value is only
 * partly secure (an entry of a list set with `--path`) is a secret key as a
 * whole, as the CLI marks it.
 */
export function readStackFile(
  file: string,
  project: string,
  passphrase: string | undefined,
): StackFile {
  const parsed = (parseYaml(readFileSync(file, "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
    encryptionsalt?: string;
    secretsprovider?: string;
  };
  const prefix = `${project}:`;
  const entries = Object.entries(parsed.config ?? {})
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, value]) => [key.slice(prefix.length), value] as const);
  const secretKeys = entries.filter(([, value]) => holdsSecure(value)).map(([key]) => key);

  let key: Buffer | undefined;
  if (secretKeys.length > 0 && passphrase !== undefined) {
    if (parsed.secretsprovider !== undefined && parsed.secretsprovider !== "passphrase") {
      throw new SecretsError(
        `its secrets provider is ${parsed.secretsprovider}; only the passphrase provider's secrets can be read offline`,
      );
    }
    if (parsed.encryptionsalt === undefined) {
      throw new SecretsError("it has secure values but no encryptionsalt");
    }
    key = keyFor(passphrase, parsed.encryptionsalt);
  }

  const plaintexts: string[] = [];
  const unread = new Set<string>();
  /** Thrown where an unread secret has no stand-in of its own, for its key's whole stand-in. */
  const noStandIn = Symbol("no stand-in");
  const open = (path: Path, value: unknown): unknown => {
    if (isSecure(value)) {
      if (key === undefined) {
        unread.add(String(path[0]));
        const standIn = standInAt(path);
        if (standIn === undefined && path.length > 1) throw noStandIn;
        return standIn;
      }
      const plain = decryptValue(key, value.secure);
      plaintexts.push(...partsOf(plain));
      return plain;
    }
    if (Array.isArray(value)) {
      return value.map((v, i) => open([...path, i], v)).filter((v) => v !== undefined);
    }
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(
        Object.entries(value)
          .map(([k, v]) => [k, open([...path, k], v)] as const)
          .filter(([, v]) => v !== undefined),
      );
    }
    return value;
  };

  const values: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    let opened: unknown;
    try {
      opened = open([name], value);
    } catch (e) {
      if (e !== noStandIn) throw e;
      opened = standInAt([name]);
    }
    if (opened !== undefined) values[name] = opened;
  }
  return { values, secretKeys, unread: [...unread], plaintexts };
}

/**
 * A plaintext and the pieces output may show of it: a list set whole with
 * `--secret` is JSON or comma-separated text, and output shows its entries.
 */
function partsOf(plain: string): string[] {
  const parts = [plain, ...plain.split(",").map((p) => p.trim())];
  try {
    const leaves = (v: unknown): string[] =>
      typeof v === "string"
        ? [v]
        : typeof v === "object" && v !== null
          ? Object.values(v).flatMap(leaves)
          : [];
    parts.push(...leaves(JSON.parse(plain)));
  } catch {
    // Not JSON: the text and its comma-separated parts are all there is.
  }
  return parts.filter((p) => p !== "");
}

/** Text with every secret plaintext in it replaced, longest first so no part of one survives. */
export function scrub(text: string, plaintexts: readonly string[]): string {
  const sorted = [...new Set(plaintexts)]
    .filter((p) => p !== "")
    .sort((a, b) => b.length - a.length);
  return sorted.reduce((out, secret) => out.split(secret).join("[secret]"), text);
}
