/**
 * The Worker's log line where people work: the lab page shows each call's
 * line beside the call, and the lab's trace keeps it with the call.
 */
import { entries, freshPage, openSession, runCase, type Session } from "./browser-support";

jest.setTimeout(60_000);

const email = "dev@example.com";
let session: Session;

beforeAll(async () => {
  session = await openSession("dev");
}, 90_000);

afterAll(async () => {
  await session?.close();
});

describe("the Worker's log line in the lab", () => {
  it("is shown beside a call through the Worker, with its reason, and kept with the call", async () => {
    await freshPage(session, "as-configured", email);
    const { result, trace, workerLogs } = await runCase(session, "worker");
    expect(result).toMatchObject({ outcome: "ok", status: 200 });

    const [call] = entries(trace, "worker", "GET");
    expect(call?.workerLog).toMatchObject({
      reason: "forwarded",
      status: 200,
      requestId: expect.stringMatching(/^[0-9a-f]{16}-LAB$/),
      method: "GET",
      identity: "person",
      upstreamStatus: 200,
    });
    expect(workerLogs).toEqual([{ reason: "forwarded", line: JSON.stringify(call!.workerLog) }]);
    expect(workerLogs[0]!.line).not.toContain(email);
    expect(workerLogs[0]!.line).not.toContain("run=");
  });

  it("names the reason of a refusal, here a method the route does not serve", async () => {
    await freshPage(session, "as-configured", email);
    const { last: mark } = await session.lab.log(Number.MAX_SAFE_INTEGER);
    const status = await session.page.evaluate(async () => {
      const response = await fetch("/api/echo", { method: "PROPFIND" });
      return response.status;
    });
    expect(status).toBe(405);
    const [call] = entries((await session.lab.log(mark)).entries, "worker", "PROPFIND");
    expect(call?.workerLog).toMatchObject({
      reason: "method_not_allowed",
      status: 405,
      identity: "person",
      detail: expect.any(String),
    });
  });
});
