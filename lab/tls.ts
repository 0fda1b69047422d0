/**
 * A locally generated certificate for every host the lab serves, so the
 * browser speaks real HTTPS (needed for `Secure; SameSite=None` cookies).
 * Chromium is told to trust exactly this key by its SPKI hash
 * (`--ignore-certificate-errors-spki-list`), so nothing is added to any trust
 * store; the doctor trusts the certificate file with `--cacert`.
 *
 * `npm start` keeps one key under .lab/ for every stack and a certificate per
 * stack (each stack serves other host names). Because the key, and so the
 * SPKI hash, stays the same when the certificate is reissued, a browser
 * opened for one stack's lab keeps trusting another's. Tests keep all of it
 * in memory.
 */
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { generate } from "selfsigned";

export interface LabCertificate {
  key: string;
  cert: string;
  hosts: string[];
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's flag wants it. */
  spki: string;
  /** Where the certificate's PEM is kept, for `--cacert`; absent while it exists only in memory. */
  file?: string;
}

export interface KeyPairPem {
  privateKey: string;
  publicKey: string;
}

export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

export function newKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** A self-signed certificate for `hosts`; with `keyPair`, for that key rather than a new one. */
export async function newCertificate(
  hosts: string[],
  keyPair?: KeyPairPem,
): Promise<LabCertificate> {
  const sorted = [...new Set(hosts)].sort();
  const pems = await generate([{ name: "commonName", value: "access-bridge local lab" }], {
    keySize: 2048,
    days: 365,
    algorithm: "sha256",
    ...(keyPair !== undefined ? { keyPair } : {}),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: sorted.map((value) => ({ type: 2 as const, value })) },
    ],
  } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert, hosts: sorted, spki: spkiHash(pems.cert) };
}

/** The DNS names a certificate covers, sorted. */
export function certificateHosts(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? "";
  return san
    .split(", ")
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4))
    .sort();
}

/** The file names under the lab's state folder, shared by start.ts and the docs. */
export function labFiles(dir: string, stack: string) {
  const apiToken = path.join(dir, `api-token-${stack}`);
  return {
    key: path.join(dir, "key.pem"),
    cert: path.join(dir, `cert-${stack}.pem`),
    profile: path.join(dir, `profile-${stack}`),
    /** The first API's token. */
    apiToken,
    /** The token for the `index`th API: the first keeps the single-API name, the others carry their host. */
    apiTokenFor: (hostname: string, index: number): string =>
      index === 0 ? apiToken : path.join(dir, `api-token-${stack}-${hostname}`),
  };
}

function loadKeyPair(file: string): KeyPairPem | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const privateKey = readFileSync(file, "utf8");
    const publicKey = createPublicKey(privateKey).export({ type: "spki", format: "pem" });
    return { privateKey, publicKey: publicKey.toString() };
  } catch {
    // An unreadable key is replaced by the caller.
    return undefined;
  }
}

function samePublicKey(certPem: string, keyPair: KeyPairPem): boolean {
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "pem" });
  return fromCert.toString() === keyPair.publicKey;
}

/**
 * The stack's certificate from `dir` when it covers the same hosts with the
 * lab's key and is valid for another day; else one reissued for the same key
 * (a new key only when there is none).
 */
export async function cachedCertificate(
  dir: string,
  stack: string,
  hosts: string[],
): Promise<LabCertificate> {
  const files = labFiles(dir, stack);
  const wanted = [...new Set(hosts)].sort();
  mkdirSync(dir, { recursive: true });
  let keyPair = loadKeyPair(files.key);
  if (keyPair === undefined) {
    keyPair = newKeyPair();
    writeFileSync(files.key, keyPair.privateKey, { mode: 0o600 });
  }
  if (existsSync(files.cert)) {
    try {
      const cert = readFileSync(files.cert, "utf8");
      const stillValid = Date.parse(new X509Certificate(cert).validTo) > Date.now() + 86_400_000;
      const sameHosts = JSON.stringify(certificateHosts(cert)) === JSON.stringify(wanted);
      if (stillValid && sameHosts && samePublicKey(cert, keyPair)) {
        return {
          key: keyPair.privateKey,
          cert,
          hosts: wanted,
          spki: spkiHash(cert),
          file: files.cert,
        };
      }
    } catch {
      // An unreadable certificate is reissued below.
    }
  }
  const fresh = await newCertificate(wanted, keyPair);
  writeFileSync(files.cert, fresh.cert);
  return { ...fresh, file: files.cert };
}
