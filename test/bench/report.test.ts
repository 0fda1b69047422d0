import type { LoadResult } from "../../bench/load";
import { median, summarize, verdicts } from "../../bench/report";

const sample = (requestsPerSecond: number, p50Ms: number, errors = 0): LoadResult => ({
  requestsPerSecond,
  p50Ms,
  requests: 1000,
  errors,
});

describe("median", () => {
  it("takes the middle of an odd count and the mean of the middle two of an even one", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("summarize", () => {
  it("takes medians across rounds and measures how far the rounds spread", () => {
    const s = summarize([sample(900, 9), sample(1000, 9), sample(1200, 9)], [sample(5, 0.5)]);
    expect(s.requestsPerSecond).toBe(1000);
    expect(s.p50Ms).toBe(0.5);
    expect(s.throughputSpread).toBeCloseTo(0.3, 6);
  });
});

describe("verdicts", () => {
  const guide = summarize([sample(1000, 1)], [sample(1000, 1)]);
  const ours = summarize([sample(950, 1)], [sample(950, 1)]);

  it("passes throughput at 0.9x and p50 at 1.1x, and a bundle just under 30,000 bytes", () => {
    const checks = verdicts({ throughput: 0.9, p50: 1.1 }, 29_999, { ours, guide }, true);
    expect(checks.map((c) => c.pass)).toEqual([true, true, true]);
  });

  it("fails just outside each limit", () => {
    const checks = verdicts({ throughput: 0.89, p50: 1.11 }, 30_000, { ours, guide }, true);
    expect(checks.map((c) => c.pass)).toEqual([false, false, false]);
  });

  it("fails the speed targets when ours did not verify, however fast it was", () => {
    const checks = verdicts({ throughput: 3, p50: 0.2 }, 1000, { ours, guide }, false);
    expect(checks.map((c) => c.pass)).toEqual([false, false, true]);
    expect(checks[0]?.note).toMatch(/did not answer 200/);
  });

  it("fails the speed targets when ours errored under load", () => {
    const failing = summarize([sample(5000, 0.1, 500)], [sample(5000, 0.1, 0)]);
    expect(failing.errorRate).toBeCloseTo(0.25, 6);
    const checks = verdicts({ throughput: 3, p50: 0.2 }, 1000, { ours: failing, guide }, true);
    expect(checks.map((c) => c.pass)).toEqual([false, false, true]);
    expect(checks[0]?.note).toMatch(/ours failed 25\.0%/);
  });

  it("fails the speed targets when the guide errored under load, since the ratios mean nothing", () => {
    const failing = summarize([sample(5000, 0.1, 500)], [sample(5000, 0.1, 0)]);
    const checks = verdicts({ throughput: 0.95, p50: 1 }, 1000, { ours, guide: failing }, true);
    expect(checks.map((c) => c.pass)).toEqual([false, false, true]);
    expect(checks[0]?.note).toMatch(/guide failed/);
  });
});
