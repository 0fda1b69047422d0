/**
 * Node has WebCrypto's key types at run time, as the Workers runtime does,
 * but @types/node declares them only inside node:crypto. Tests that run the
 * Worker's own signer under Node see them under the names the Worker uses.
 */
import type { webcrypto } from "node:crypto";

declare global {
  type CryptoKey = webcrypto.CryptoKey;
  type JsonWebKey = webcrypto.JsonWebKey;
}
