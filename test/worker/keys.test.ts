import {
  expectJsonError,
  type Harness,
  newSigningKey,
  signJwt,
  startWorker,
  waitUntil,
} from "./harness";

const key = newSigningKey("key-1");
const stranger = newSigningKey("key-stranger");
const jwt = signJwt(key);
const burst = 40;

/** Distinct forged tokens, each naming a `kid` the team never had. */
const forgedKids = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => signJwt({ ...stranger, kid: `forged-${i}` }));

/**
 * Sends every token at once to `worker` while the keys endpoint holds its
 * answers, then lets it answer: every request is in the Worker, waiting on
 * keys, before the first fetch completes.
 */
async function sendTogether(h: Harness, worker: string, tokens: string[]): Promise<Response[]> {
  let open!: () => void;
  h.certsGate = new Promise((resolve) => (open = resolve));
  const before = h.certsFetches;
  const responses = Promise.all(tokens.map((jwt) => h.fetch("/api/x", { jwt, worker })));
  // Nothing to wait for when no fetch is due; otherwise hold the first one
  // open long enough for the rest of the burst to arrive behind it.
  await waitUntil(() => h.certsFetches > before, 1000).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  open();
  return responses;
}

describe("the team's keys under a burst of requests", () => {
  let h: Harness;
  beforeAll(async () => {
    // Each variant is an isolate of its own, so each starts with no keys.
    h = await startWorker({ keys: [key], variants: { coldValid: {}, coldForged: {}, warm: {} } });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  it("shares one keys fetch among concurrent requests on a cold isolate", async () => {
    const before = h.certsFetches;
    const responses = await sendTogether(h, "coldValid", Array(burst).fill(jwt));
    expect(responses.map((r) => r.status)).toEqual(Array(burst).fill(200));
    expect(h.certsFetches - before).toBe(1);
    expect(h.apiCalls).toHaveLength(burst);
  });

  it("fetches once for a burst of unknown kids on a cold isolate, and forwards none", async () => {
    const before = h.certsFetches;
    const responses = await sendTogether(h, "coldForged", forgedKids(burst));
    for (const response of responses) await expectJsonError(response, 403);
    expect(h.certsFetches - before).toBe(1);
    expect(h.apiCalls).toHaveLength(0);
  });

  it("does not refetch within the cooldown for a burst of unknown kids once keys are held", async () => {
    expect((await h.fetch("/api/x", { jwt, worker: "warm" })).status).toBe(200);
    const before = h.certsFetches;
    const responses = await sendTogether(h, "warm", forgedKids(burst));
    for (const response of responses) await expectJsonError(response, 403);
    expect(h.certsFetches - before).toBe(0);
    expect(h.apiCalls).toHaveLength(1);
  });
});
