/**
 * The doctor names the reason of any answer the stack's Worker gives
 * itself: live, from the real Worker in workerd, and in a HAR capture.
 */
import { WORKER_REASONS } from "../../doctor/findings";
import type { Har } from "../../doctor/har";
import { triageHar } from "../../doctor/har";
import { renderHarText } from "../../doctor/report";
import { workerAnswerOf } from "../../doctor/worker-answer";
import { REASONS } from "../../worker/src/reasons";
import { newSigningKey, startWorker, type Harness } from "../worker/harness";
import { runCli } from "./support/run-cli";

describe("workerAnswerOf", () => {
  it("reads the Worker's own body, and nothing else", () => {
    const body = { error: "not found", reason: "not_found", requestId: "8f00aa11bb22cc33-LHR" };
    expect(workerAnswerOf(JSON.stringify(body))).toEqual({
      reason: "not_found",
      requestId: "8f00aa11bb22cc33-LHR",
    });
    for (const other of [
      { ...body, reason: "no_such_reason" },
      { ...body, extra: 1 },
      { error: "not found", requestId: "x" },
      [body],
    ]) {
      expect(workerAnswerOf(JSON.stringify(other))).toBeUndefined();
    }
    expect(workerAnswerOf("not json")).toBeUndefined();
    expect(workerAnswerOf(`${JSON.stringify(body)}${" ".repeat(5000)}`)).toBeUndefined();
  });

  it("has words for every reason the Worker gives", () => {
    expect(Object.keys(WORKER_REASONS).sort()).toEqual([...REASONS].sort());
  });
});

describe("the doctor meeting the Worker live", () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await startWorker({ keys: [newSigningKey("key-1")] });
    base = (await h.mf.ready).href.replace(/\/$/, "");
  });
  afterAll(async () => {
    await h.dispose();
  });

  it("prints the reason of its refusal, with the request id its log line carries", async () => {
    const run = await runCli(["--url", `${base}/api/items`, "--origin", "https://app.example.com"]);
    const [line] = run.stdout.split("\n").filter((l) => l.includes("the stack's Worker answered"));
    expect(line).toMatch(
      /^ {2}the stack's Worker answered: reason missing_assertion \(requestId [0-9a-f-]{36}\): the request reached the Worker without Access's Cf-Access-Jwt-Assertion/,
    );
    const json = await runCli([
      "--url",
      `${base}/api/items`,
      "--origin",
      "https://app.example.com",
      "--json",
    ]);
    const exchanges = (JSON.parse(json.stdout) as { exchanges: { worker?: unknown }[] }).exchanges;
    expect(exchanges.map((e) => e.worker)).toEqual([
      { reason: "missing_assertion", requestId: expect.any(String) },
    ]);
  });
});

describe("the doctor meeting the Worker in a capture", () => {
  const entry = (url: string, status: number, text: string) => ({
    request: { method: "GET", url, headers: [] },
    response: {
      status,
      headers: [],
      content: { size: text.length, mimeType: "application/json", text },
    },
  });

  it("lists each answer the Worker gave itself, with its reason", () => {
    const body = { error: "cross-site request refused", reason: "cross_site", requestId: "ab-LHR" };
    const har: Har = {
      log: {
        entries: [
          entry(
            "https://www.example.com/api/items?token=secret-in-query",
            403,
            JSON.stringify(body),
          ),
          entry("https://www.example.com/api/other", 200, '{"ok":true}'),
        ],
      },
    };
    const triage = triageHar(har);
    expect(triage.workerAnswers).toEqual([
      {
        entry: 0,
        method: "GET",
        url: expect.not.stringContaining("secret-in-query"),
        status: 403,
        reason: "cross_site",
        requestId: "ab-LHR",
      },
    ]);
    expect(renderHarText("capture.har", triage, [])).toContain(
      "The stack's Worker answered 1 request(s) itself:\n  #0 GET https://www.example.com/api/items",
    );
  });
});
