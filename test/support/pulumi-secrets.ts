/**
 * Writes secrets as the Pulumi CLI's passphrase provider does, so tests can
 * make stack files like those `pulumi config set --secret` leaves behind.
 */
import { createCipheriv, pbkdf2Sync, randomBytes } from "node:crypto";

/** A `v1:<nonce>:<ciphertext>` value under a key. */
export function encryptValue(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const sealed = Buffer.concat([
    cipher.update(plaintext, "utf8"),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return `v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

/** A new stack's `encryptionsalt` for a passphrase, and the key that goes with it. */
export function newEncryption(passphrase: string): { encryptionsalt: string; key: Buffer } {
  const salt = randomBytes(8);
  const key = pbkdf2Sync(passphrase, salt, 1_000_000, 32, "sha256");
  return { encryptionsalt: `v1:${salt.toString("base64")}:${encryptValue(key, "pulumi")}`, key };
}
