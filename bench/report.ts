import type { LoadResult } from "./load";

export type WorkerName = "guide" | "ours";

export const targetLabels = {
  floor: "origin direct (floor)",
  guide: "guide's Worker",
  ours: "ours (verifying)",
} as const;

/** One measurement of each Worker, taken together so that machine noise falls on both alike. */
export interface Pair {
  guide: LoadResult;
  ours: LoadResult;
}

export interface Measurements {
  /** The origin alone, once: it frames the figures and is not compared. */
  floor: { throughput: LoadResult; latency: LoadResult };
  /** Rounds at 32 connections with both Workers loaded at the same time. */
  throughput: Pair[];
  /** Back-to-back windows at 1 connection, the order alternating. */
  latency: Pair[];
  /**
   * With `--baseline`: an earlier build of ours, loaded in the same rounds as
   * the other two (one result per throughput round), so a change's cost is
   * measured at the same moment rather than across runs.
   */
  baseline?: LoadResult[];
}

/** A paired ratio of ours to the guide: the median over pairs, and the range it came from. */
export interface PairedRatio {
  median: number;
  min: number;
  max: number;
  pairs: number;
}

export interface WorkerSummary {
  /** Median req/s over the throughput rounds (served while sharing the core). */
  requestsPerSecond: number;
  /** Median workerd CPU time per request over the throughput rounds, where it was read. */
  cpuMicrosPerRequest?: number;
  /** Median p50 over the latency windows. */
  p50Ms: number;
  /** Share of responses that were errors, over all samples; high means the figures measure failures. */
  errorRate: number;
}

export interface Summary {
  floor: { requestsPerSecond: number; p50Ms: number };
  guide: WorkerSummary;
  ours: WorkerSummary;
  ratios: {
    throughput: PairedRatio;
    p50: PairedRatio;
    /** CPU per request, ours over the guide's, per round: above 1 means ours costs more. */
    cpuPerRequest?: PairedRatio;
  };
  /** With `--baseline`: the baseline against the guide, and ours against the baseline. */
  baseline?: BaselineRatios;
}

export interface BaselineRatios {
  /** req/s of the baseline over the guide's. */
  vsGuide: PairedRatio;
  /** req/s of ours over the baseline's. */
  oursVsBaseline: PairedRatio;
  /** CPU per request of ours over the baseline's, where it was read. */
  oursCpuVsBaseline?: PairedRatio;
}

export interface Verdict {
  target: string;
  measured: string;
  pass: boolean;
  note?: string;
}

export const limits = {
  minThroughputRatio: 0.9,
  maxP50Ratio: 1.1,
  // "40 KB" read strictly, as 40,000 bytes.
  maxBundleBytes: 40_000,
  maxErrorRate: 0.01,
};

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Ours over the guide, pair by pair, then the median. Each pair shares its
 * moment on the machine, so a burst of noise moves both sides of a ratio and
 * the median skips the pairs it still spoiled.
 */
export function pairedRatio(pairs: Pair[], figure: (result: LoadResult) => number): PairedRatio {
  return ratioOf(pairs.map((pair) => figure(pair.ours) / figure(pair.guide)));
}

function ratioOf(values: number[]): PairedRatio {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    pairs: values.length,
  };
}

/** The workerd's CPU time per request served in one run, in µs, if it was read. */
export function cpuMicrosPerRequest(result: LoadResult): number | undefined {
  if (result.cpuNs === undefined || result.requests === 0) return undefined;
  return result.cpuNs / result.requests / 1000;
}

/** Per-round ratios of CPU per request, or `undefined` unless every round has both figures. */
function cpuRatio(rounds: [LoadResult, LoadResult][]): PairedRatio | undefined {
  const values = rounds.map(([a, b]) => {
    const [x, y] = [cpuMicrosPerRequest(a), cpuMicrosPerRequest(b)];
    return x === undefined || y === undefined ? NaN : x / y;
  });
  return values.length > 0 && values.every(Number.isFinite) ? ratioOf(values) : undefined;
}

function errorRate(results: LoadResult[]): number {
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  return requests === 0 ? 1 : errors / requests;
}

function summarizeWorker(m: Measurements, name: WorkerName): WorkerSummary {
  const throughput = m.throughput.map((pair) => pair[name]);
  const latency = m.latency.map((pair) => pair[name]);
  const cpu = throughput.map(cpuMicrosPerRequest);
  return {
    requestsPerSecond: median(throughput.map((r) => r.requestsPerSecond)),
    ...(cpu.length > 0 && cpu.every((c) => c !== undefined)
      ? { cpuMicrosPerRequest: median(cpu) }
      : {}),
    p50Ms: median(latency.map((r) => r.p50Ms)),
    errorRate: errorRate([...throughput, ...latency]),
  };
}

export function summarize(m: Measurements): Summary {
  return {
    floor: {
      requestsPerSecond: m.floor.throughput.requestsPerSecond,
      p50Ms: m.floor.latency.p50Ms,
    },
    guide: summarizeWorker(m, "guide"),
    ours: summarizeWorker(m, "ours"),
    ratios: {
      throughput: pairedRatio(m.throughput, (r) => r.requestsPerSecond),
      p50: pairedRatio(m.latency, (r) => r.p50Ms),
      ...optional("cpuPerRequest", cpuRatio(m.throughput.map((p) => [p.ours, p.guide]))),
    },
    ...(m.baseline ? { baseline: baselineRatios(m.throughput, m.baseline) } : {}),
  };
}

/** Per round: the baseline over the guide, and ours over the baseline; each the median of rounds. */
export function baselineRatios(rounds: Pair[], baseline: LoadResult[]): BaselineRatios {
  const rps = (i: number) => baseline[i]?.requestsPerSecond ?? NaN;
  const cpu =
    baseline.length === rounds.length
      ? cpuRatio(rounds.map((pair, i) => [pair.ours, baseline[i] as LoadResult]))
      : undefined;
  return {
    vsGuide: ratioOf(rounds.map((pair, i) => rps(i) / pair.guide.requestsPerSecond)),
    oursVsBaseline: ratioOf(rounds.map((pair, i) => pair.ours.requestsPerSecond / rps(i))),
    ...optional("oursCpuVsBaseline", cpu),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Judges the targets. Speed figures only count if ours answered 200
 * with verification and neither Worker failed under load: a Worker that
 * rejects or fails requests is fast for the wrong reason.
 */
export function verdicts(summary: Summary, bundleBytes: number, oursVerified: boolean): Verdict[] {
  const failing = (["ours", "guide"] as const).find(
    (name) => summary[name].errorRate > limits.maxErrorRate,
  );
  const invalid = !oursVerified
    ? "ours did not answer 200 to a valid assertion"
    : failing
      ? `${failing} failed ${(summary[failing].errorRate * 100).toFixed(1)}% of requests under load`
      : undefined;
  const { throughput, p50 } = summary.ratios;
  return [
    {
      target: `throughput >= ${limits.minThroughputRatio}x guide`,
      measured: `${throughput.median.toFixed(2)}x`,
      pass: !invalid && throughput.median >= limits.minThroughputRatio,
      note: invalid,
    },
    {
      target: `p50 latency <= ${limits.maxP50Ratio}x guide`,
      measured: `${p50.median.toFixed(2)}x`,
      pass: !invalid && p50.median <= limits.maxP50Ratio,
      note: invalid,
    },
    {
      target: `bundle < ${limits.maxBundleBytes} bytes`,
      measured: `${bundleBytes} bytes`,
      pass: bundleBytes < limits.maxBundleBytes,
    },
  ];
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  return rows.map((row) => pad(row, widths ?? []).trimEnd()).join("\n");
}

const range = (r: PairedRatio): string => `${r.min.toFixed(2)}-${r.max.toFixed(2)}`;

export function formatReport(summary: Summary, checks: Verdict[], bundleBytes: number): string {
  const { throughput, p50 } = summary.ratios;
  const rows = [
    ["target", "req/s @32", "p50 @1", "vs guide (req/s, p50)", "errors"],
    [
      targetLabels.floor,
      `${summary.floor.requestsPerSecond.toFixed(0)} (alone)`,
      `${summary.floor.p50Ms.toFixed(3)} ms`,
      "-",
      "-",
    ],
  ];
  for (const name of ["guide", "ours"] as const) {
    const s = summary[name];
    rows.push([
      targetLabels[name],
      s.requestsPerSecond.toFixed(0),
      `${s.p50Ms.toFixed(3)} ms`,
      name === "ours"
        ? `${throughput.median.toFixed(2)}x, ${p50.median.toFixed(2)}x`
        : "1.00x, 1.00x",
      `${(s.errorRate * 100).toFixed(2)}%`,
    ]);
  }
  const checkRows = [["target", "measured", "result"]];
  for (const check of checks) {
    checkRows.push([
      check.target,
      check.measured,
      (check.pass ? "PASS" : "FAIL") + (check.note ? ` (${check.note})` : ""),
    ]);
  }
  return [
    formatTable(rows),
    "",
    `req/s: both Workers loaded at once, each in its own workerd on the same core, so each`,
    `figure is what it served while sharing that core; ratio = median of ${throughput.pairs} rounds`,
    `(range ${range(throughput)}). p50: back-to-back windows, order alternating; ratio = median`,
    `of ${p50.pairs} pairs (range ${range(p50)}).`,
    "",
    ...(summary.ratios.cpuPerRequest
      ? [
          `CPU per request (each workerd's CPU time over the requests it served, per round): ` +
            `guide ${summary.guide.cpuMicrosPerRequest?.toFixed(1)} µs, ours ` +
            `${summary.ours.cpuMicrosPerRequest?.toFixed(1)} µs; ours/guide ` +
            `${summary.ratios.cpuPerRequest.median.toFixed(2)}x (range ${range(summary.ratios.cpuPerRequest)}).`,
          "",
        ]
      : []),
    ...(summary.baseline
      ? [
          `baseline (--baseline), loaded in the same rounds: baseline vs guide ` +
            `${summary.baseline.vsGuide.median.toFixed(2)}x (range ${range(summary.baseline.vsGuide)}); ` +
            `ours vs baseline ${summary.baseline.oursVsBaseline.median.toFixed(2)}x ` +
            `(range ${range(summary.baseline.oursVsBaseline)})` +
            (summary.baseline.oursCpuVsBaseline
              ? `; CPU per request, ours/baseline ${summary.baseline.oursCpuVsBaseline.median.toFixed(2)}x ` +
                `(range ${range(summary.baseline.oursCpuVsBaseline)}).`
              : "."),
          "",
        ]
      : []),
    `bundle worker/dist/index.js: ${bundleBytes} bytes (${(bundleBytes / 1000).toFixed(1)} KB)`,
    "",
    formatTable(checkRows),
  ].join("\n");
}
