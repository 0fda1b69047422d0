import type { LoadResult } from "./load";

export type TargetName = "floor" | "guide" | "ours";

export const targetLabels: Record<TargetName, string> = {
  floor: "origin direct (floor)",
  guide: "guide's Worker",
  ours: "ours (verifying)",
};

/** Repeated measurements of one target, and the medians the report uses. */
export interface TargetSummary {
  requestsPerSecond: number;
  p50Ms: number;
  throughputSamples: LoadResult[];
  latencySamples: LoadResult[];
  /** Share of responses that were errors, over all samples; high means the figures measure failures. */
  errorRate: number;
  /** (max - min) / median of the req/s samples: how much the machine moved under the run. */
  throughputSpread: number;
}

export interface Ratios {
  throughput: number;
  p50: number;
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
  // "30 KB" read strictly, as 30,000 bytes.
  maxBundleBytes: 30_000,
  maxErrorRate: 0.01,
  /** Past this spread between rounds, a ratio near a limit says little either way. */
  maxQuietSpread: 0.25,
};

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(throughput: LoadResult[], latency: LoadResult[]): TargetSummary {
  const all = [...throughput, ...latency];
  const requests = all.reduce((sum, r) => sum + r.requests, 0);
  const errors = all.reduce((sum, r) => sum + r.errors, 0);
  const rps = throughput.map((r) => r.requestsPerSecond);
  return {
    requestsPerSecond: median(rps),
    p50Ms: median(latency.map((r) => r.p50Ms)),
    throughputSamples: throughput,
    latencySamples: latency,
    errorRate: requests === 0 ? 1 : errors / requests,
    throughputSpread: (Math.max(...rps) - Math.min(...rps)) / median(rps),
  };
}

export function ratios(ours: TargetSummary, guide: TargetSummary): Ratios {
  return {
    throughput: ours.requestsPerSecond / guide.requestsPerSecond,
    p50: ours.p50Ms / guide.p50Ms,
  };
}

/**
 * Judges the targets. Speed figures only count if ours answered 200
 * with verification and neither Worker failed under load: a Worker that
 * rejects or fails requests is fast for the wrong reason.
 */
export function verdicts(
  r: Ratios,
  bundleBytes: number,
  summaries: { ours: TargetSummary; guide: TargetSummary },
  oursVerified: boolean,
): Verdict[] {
  const failing = (["ours", "guide"] as const).find(
    (name) => summaries[name].errorRate > limits.maxErrorRate,
  );
  const invalid = !oursVerified
    ? "ours did not answer 200 to a valid assertion"
    : failing
      ? `${failing} failed ${(summaries[failing].errorRate * 100).toFixed(1)}% of requests under load`
      : undefined;
  return [
    {
      target: `throughput >= ${limits.minThroughputRatio}x guide`,
      measured: `${r.throughput.toFixed(2)}x`,
      pass: !invalid && r.throughput >= limits.minThroughputRatio,
      note: invalid,
    },
    {
      target: `p50 latency <= ${limits.maxP50Ratio}x guide`,
      measured: `${r.p50.toFixed(2)}x`,
      pass: !invalid && r.p50 <= limits.maxP50Ratio,
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

export function formatReport(
  summaries: Record<TargetName, TargetSummary>,
  r: Ratios,
  checks: Verdict[],
  bundleBytes: number,
): string {
  const rows = [["target", "req/s @32", "p50 @1", "vs guide (req/s, p50)", "errors", "spread"]];
  for (const name of ["floor", "guide", "ours"] as const) {
    const s = summaries[name];
    const vsGuide =
      name === "ours"
        ? `${r.throughput.toFixed(2)}x, ${r.p50.toFixed(2)}x`
        : name === "guide"
          ? "1.00x, 1.00x"
          : `${(s.requestsPerSecond / summaries.guide.requestsPerSecond).toFixed(2)}x, ${(s.p50Ms / summaries.guide.p50Ms).toFixed(2)}x`;
    rows.push([
      targetLabels[name],
      s.requestsPerSecond.toFixed(0),
      `${s.p50Ms.toFixed(3)} ms`,
      vsGuide,
      `${(s.errorRate * 100).toFixed(2)}%`,
      s.throughputSamples.length > 1 ? `${(s.throughputSpread * 100).toFixed(0)}%` : "-",
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
  const noisy = (["guide", "ours"] as const).some(
    (name) => summaries[name].throughputSpread > limits.maxQuietSpread,
  );
  return [
    formatTable(rows),
    ...(noisy
      ? [
          `note: req/s varied by more than ${limits.maxQuietSpread * 100}% between rounds ` +
            `(spread column); the machine was busy, so read ratios near a limit as inconclusive`,
        ]
      : []),
    "",
    `bundle worker/dist/index.js: ${bundleBytes} bytes (${(bundleBytes / 1000).toFixed(1)} KB)`,
    "",
    formatTable(checkRows),
  ].join("\n");
}
