/**
 * A locally generated certificate for every host the lab serves, so the
 * browser speaks real HTTPS (needed for `Secure; SameSite=None` cookies).
 * Chromium is told to trust exactly this key by its SPKI hash
 * (`--ignore-certificate-errors-spki-list`), so nothing is added to any trust
 * store. `npm start` keeps the pair under .lab/ so the printed browser command
 * stays valid across restarts; tests keep it in memory.
 */
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { generate } from "selfsigned";

export interface LabCertificate {
  key: string;
  cert: string;
  hosts: string[];
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's flag wants it. */
  spki: string;
}

export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

export async function newCertificate(hosts: string[]): Promise<LabCertificate> {
  const sorted = [...new Set(hosts)].sort();
  const pems = await generate([{ name: "commonName", value: "access-bridge local lab" }], {
    keySize: 2048,
    days: 365,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: sorted.map((value) => ({ type: 2 as const, value })) },
    ],
  } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert, hosts: sorted, spki: spkiHash(pems.cert) };
}

/** The certificate cached in `dir` when it covers the same hosts and is still valid; a new one otherwise. */
export async function cachedCertificate(dir: string, hosts: string[]): Promise<LabCertificate> {
  const file = path.join(dir, "tls.json");
  const wanted = [...new Set(hosts)].sort();
  if (existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, "utf8")) as LabCertificate;
      const stillValid =
        Date.parse(new X509Certificate(saved.cert).validTo) > Date.now() + 86_400_000;
      if (stillValid && JSON.stringify(saved.hosts) === JSON.stringify(wanted)) return saved;
    } catch {
      // An unreadable cache is replaced below.
    }
  }
  const fresh = await newCertificate(wanted);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(fresh), { mode: 0o600 });
  return fresh;
}
