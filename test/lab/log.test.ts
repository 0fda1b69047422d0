/** The lab's trace: a Worker's log line reaches the terminal at once and the call it belongs to. */
import { LabLog } from "../../lab/log";
import { workerLogLine } from "../../lab/workerd";

const url = "https://www.example.com/api/echo?run=1";
const text = JSON.stringify({ reason: "forwarded", status: 200, requestId: "ab-LAB" });

describe("a Worker's log line", () => {
  it("is printed as the Worker wrote it, and kept with the Worker's call on its URL", () => {
    const printed: string[] = [];
    const log = new LabLog((line) => printed.push(line));
    log.workerLine(url, workerLogLine(text)!, text);
    expect(printed).toEqual([text]);

    log.add("api-edge", "GET", url, 0, "not the Worker's entry");
    log.add("worker", "GET", "https://www.example.com/api/other", 200);
    log.add("worker", "GET", url, 200, "route www.example.com/api/*");
    log.add("worker", "GET", url, 200, "a later call on the same URL");
    expect(log.since(0).map((e) => e.workerLog)).toEqual([
      undefined,
      undefined,
      JSON.parse(text),
      undefined,
    ]);
  });

  it("is told apart from the Worker's other output", () => {
    expect(workerLogLine(text)).toEqual(JSON.parse(text));
    for (const message of ["[ray] 502 upstream unreachable: x", "{not json", '{"a":1}', "[]"]) {
      expect(workerLogLine(message)).toBeUndefined();
    }
  });
});
