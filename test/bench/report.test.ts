import type { LoadResult } from "../../bench/load";
import {
  cpuMicrosPerRequest,
  formatReport,
  median,
  pairedRatio,
  summarize,
  verdicts,
  type Measurements,
  type Pair,
} from "../../bench/report";

const sample = (requestsPerSecond: number, p50Ms: number, errors = 0): LoadResult => ({
  requestsPerSecond,
  p50Ms,
  requests: 1000,
  errors,
});

const pair = (guide: LoadResult, ours: LoadResult): Pair => ({ guide, ours });

/** A run where ours does `throughput` of the guide's req/s and `p50` times its latency. */
function run(throughput: number, p50: number, errors = { guide: 0, ours: 0 }): Measurements {
  return {
    floor: { throughput: sample(10_000, 5), latency: sample(9_000, 0.05) },
    throughput: [pair(sample(1000, 9, errors.guide), sample(1000 * throughput, 9, errors.ours))],
    latency: [pair(sample(2000, 0.4), sample(2000, 0.4 * p50))],
  };
}

describe("median", () => {
  it("takes the middle of an odd count and the mean of the middle two of an even one", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("pairedRatio", () => {
  it("compares within each pair, so a slow moment for both does not move the ratio", () => {
    const pairs = [
      pair(sample(1000, 1), sample(900, 1)),
      // A burst of noise halves both Workers at once.
      pair(sample(500, 1), sample(450, 1)),
      pair(sample(1100, 1), sample(1000, 1)),
    ];
    const r = pairedRatio(pairs, (s) => s.requestsPerSecond);
    expect(r.median).toBeCloseTo(0.9, 6);
    expect(r.min).toBeCloseTo(0.9, 6);
    expect(r.max).toBeCloseTo(1000 / 1100, 6);
    expect(r.pairs).toBe(3);
  });
});

describe("summarize", () => {
  it("takes each Worker's medians and the paired ratios", () => {
    const s = summarize(run(0.95, 1.05));
    expect(s.floor).toEqual({ requestsPerSecond: 10_000, p50Ms: 0.05 });
    expect(s.guide.requestsPerSecond).toBe(1000);
    expect(s.ours.requestsPerSecond).toBe(950);
    expect(s.ours.p50Ms).toBeCloseTo(0.42, 6);
    expect(s.ratios.throughput.median).toBeCloseTo(0.95, 6);
    expect(s.ratios.p50.median).toBeCloseTo(1.05, 6);
  });
});

describe("a baseline measured in the same rounds", () => {
  it("gives its ratio to the guide and ours to it, round by round", () => {
    const m: Measurements = {
      ...run(0.95, 1),
      throughput: [pair(sample(1000, 9), sample(940, 9)), pair(sample(500, 9), sample(480, 9))],
      baseline: [sample(960, 9), sample(490, 9)],
    };
    const { baseline } = summarize(m);
    expect(baseline?.vsGuide.median).toBeCloseTo((0.96 + 0.98) / 2, 6);
    expect(baseline?.oursVsBaseline.median).toBeCloseTo((940 / 960 + 480 / 490) / 2, 6);
    expect(formatReport(summarize(m), [], 1)).toMatch(
      /baseline vs guide 0\.97x .* ours vs baseline 0\.98x/,
    );
    expect(summarize(run(0.95, 1)).baseline).toBeUndefined();
  });
});

describe("CPU per request", () => {
  const withCpu = (result: LoadResult, cpuMicros: number): LoadResult => ({
    ...result,
    cpuNs: cpuMicros * 1000 * result.requests,
  });

  it("is each workerd's CPU time over the requests it served, and unknown where it was not read", () => {
    expect(cpuMicrosPerRequest(withCpu(sample(1000, 1), 240))).toBeCloseTo(240, 6);
    expect(cpuMicrosPerRequest(sample(1000, 1))).toBeUndefined();
    expect(cpuMicrosPerRequest({ ...sample(1000, 1), requests: 0, cpuNs: 5 })).toBeUndefined();
  });

  it("compares ours to the guide and to a baseline round by round, above 1 when ours costs more", () => {
    const m: Measurements = {
      ...run(0.95, 1),
      throughput: [
        pair(withCpu(sample(1000, 9), 200), withCpu(sample(940, 9), 210)),
        pair(withCpu(sample(500, 9), 400), withCpu(sample(480, 9), 440)),
      ],
      baseline: [withCpu(sample(960, 9), 205), withCpu(sample(490, 9), 400)],
    };
    const summary = summarize(m);
    expect(summary.ratios.cpuPerRequest?.median).toBeCloseTo((1.05 + 1.1) / 2, 6);
    expect(summary.ours.cpuMicrosPerRequest).toBeCloseTo(325, 6);
    expect(summary.baseline?.oursCpuVsBaseline?.median).toBeCloseTo((210 / 205 + 1.1) / 2, 6);
    const text = formatReport(summary, [], 1);
    expect(text).toMatch(/CPU per request .* guide 300\.0 µs, ours 325\.0 µs; ours\/guide 1\.08x/);
    expect(text).toMatch(/CPU per request, ours\/baseline 1\.06x/);
  });

  it("is left out when any round lacks it, rather than judged on some rounds", () => {
    const m: Measurements = {
      ...run(0.95, 1),
      throughput: [
        pair(withCpu(sample(1000, 9), 200), withCpu(sample(940, 9), 210)),
        pair(sample(500, 9), sample(480, 9)),
      ],
    };
    const summary = summarize(m);
    expect(summary.ratios.cpuPerRequest).toBeUndefined();
    expect(summary.ours.cpuMicrosPerRequest).toBeUndefined();
    expect(formatReport(summary, [], 1)).not.toContain("CPU per request");
  });
});

describe("verdicts", () => {
  it("passes throughput at 0.9x and p50 at 1.1x, and a bundle just under 40,000 bytes", () => {
    const checks = verdicts(summarize(run(0.9, 1.1)), 39_999, true);
    expect(checks.map((c) => c.pass)).toEqual([true, true, true]);
  });

  it("fails just outside each limit", () => {
    const checks = verdicts(summarize(run(0.89, 1.11)), 40_000, true);
    expect(checks.map((c) => c.pass)).toEqual([false, false, false]);
  });

  it("fails the speed targets when ours did not verify, however fast it was", () => {
    const checks = verdicts(summarize(run(3, 0.2)), 1000, false);
    expect(checks.map((c) => c.pass)).toEqual([false, false, true]);
    expect(checks[0]?.note).toMatch(/did not answer 200/);
  });

  it("fails the speed targets when ours errored under load", () => {
    const summary = summarize(run(3, 0.2, { guide: 0, ours: 500 }));
    expect(summary.ours.errorRate).toBeCloseTo(0.25, 6);
    const checks = verdicts(summary, 1000, true);
    expect(checks.map((c) => c.pass)).toEqual([false, false, true]);
    expect(checks[0]?.note).toMatch(/ours failed 25\.0%/);
  });

  it("fails the speed targets when the guide errored under load, since the ratios mean nothing", () => {
    const checks = verdicts(summarize(run(0.95, 1, { guide: 500, ours: 0 })), 1000, true);
    expect(checks.map((c) => c.pass)).toEqual([false, false, true]);
    expect(checks[0]?.note).toMatch(/guide failed/);
  });
});

describe("formatReport", () => {
  it("prints the figures, the ratios with their ranges, and each verdict", () => {
    const summary = summarize(run(0.93, 1.04));
    const text = formatReport(summary, verdicts(summary, 26_000, true), 26_000);
    expect(text).toMatch(/ours \(verifying\)\s+930\s+0\.416 ms\s+0\.93x, 1\.04x\s+0\.00%/);
    expect(text).toContain("range 0.93-0.93");
    expect(text).toMatch(/throughput >= 0\.9x guide\s+0\.93x\s+PASS/);
    expect(text).toContain("bundle worker/dist/index.js: 26000 bytes");
  });
});
