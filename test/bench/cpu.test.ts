import { cpuTimeNs } from "../../bench/cpu";

describe("cpuTimeNs", () => {
  it("reads a process's CPU time, which grows while it computes", () => {
    const before = cpuTimeNs(process.pid);
    expect(before).toBeGreaterThan(0);
    const until = Date.now() + 50;
    let spin = 0;
    while (Date.now() < until) spin++;
    expect(spin).toBeGreaterThan(0);
    const after = cpuTimeNs(process.pid);
    // 50 ms of spinning, less whatever the scheduler took away.
    expect(after! - before!).toBeGreaterThan(10_000_000);
  });

  it("is undefined for a process that does not exist", () => {
    expect(cpuTimeNs(2 ** 22 + 1)).toBeUndefined();
  });
});
