import { HttpError } from "./errors";
import type { TokenFinder } from "./headers";

/** The largest error body read whole and scanned for the token. */
export const MAX_SCANNED_BYTES = 64 * 1024;

/**
 * What a page reads as text and may show: text (HTML included), JSON and
 * XHTML; a body with no declared type is sniffed as text.
 */
const TEXTUAL = /^\s*(?:text\/|application\/(?:[\w.+-]+\+)?json\b|application\/xhtml\+xml\b)/i;

/**
 * Whether the API's answer is an error whose body the Worker reads before
 * passing it on: at least 400, text, and not declared larger than
 * {@link MAX_SCANNED_BYTES}. Everything else, 2xx answers and downloads
 * above all, streams as the runtime hands it over.
 */
export function isScannedError(response: Response): boolean {
  if (response.status < 400 || response.body === null) return false;
  const type = response.headers.get("content-type");
  if (type !== null && !TEXTUAL.test(type)) return false;
  return !(Number(response.headers.get("content-length")) > MAX_SCANNED_BYTES);
}

/** A body as the browser gets it: as read and scanned, or the API's own stream. */
export type PassedBody = Uint8Array | ReadableStream<Uint8Array> | null;

/** The body to pass on for `response`: {@link scannedBody}'s for a scanned error, else its own. */
export function passedBody(
  response: Response,
  carriesToken: TokenFinder,
): PassedBody | Promise<PassedBody> {
  return isScannedError(response) ? scannedBody(response.body!, carriesToken) : response.body;
}

/**
 * An error body an API built from what it was sent, such as a framework's
 * debug page listing the request headers, would show the browser the
 * service token. Reads `body` up to {@link MAX_SCANNED_BYTES}: one that ends
 * by then and matches `carriesToken` throws the Worker's own 502 and none of
 * it goes on; one that does not match goes on as read. A body longer than
 * the limit (its length undeclared, or its coding compressed) streams on
 * from where reading stopped, unscanned.
 *
 * Reading runs under the upstream call's timeout: nothing has reached the
 * browser yet, so a body that stalls is not waited for past it. The rest of
 * a long one stays under it too, once read from JavaScript.
 */
export async function scannedBody(
  body: ReadableStream<Uint8Array>,
  carriesToken: TokenFinder,
): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > MAX_SCANNED_BYTES) return replay(chunks, reader);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (carriesToken.test(new TextDecoder().decode(bytes))) {
    throw new HttpError("upstream_leak", "the API's error body carried the service token");
  }
  return bytes;
}

/** The chunks already read, then the rest of the stream as it comes. */
function replay(
  chunks: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
