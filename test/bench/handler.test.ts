import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  driverModule,
  formatHandlerReport,
  measureHandlers,
  type HandlerPlan,
} from "../../bench/handler";
import { bundleWorker } from "../../worker/build";

const guide = readFileSync(path.join(__dirname, "..", "fixtures", "guide-worker.js"), "utf8");
const plan: HandlerPlan = {
  requestsPerSample: 20,
  samples: 2,
  browserHeaders: true,
  apiCookie: true,
};

describe("the handler benchmark", () => {
  it("drives each bundle's handler in workerd and checks it verified and forwarded first", async () => {
    const broken =
      "export default { async fetch() { return new Response('no', { status: 500 }); } };";
    const results = await measureHandlers(
      [
        { name: "guide", source: guide },
        { name: "ours", source: bundleWorker() },
        { name: "baseline", source: broken },
      ],
      plan,
    );
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName.guide?.check).toEqual({ status: 200, upstreamCalls: 200, tokenSent: true });
    expect(byName.ours?.check).toEqual({ status: 200, upstreamCalls: 200, tokenSent: true });
    expect(byName.baseline?.check).toEqual({ status: 500, upstreamCalls: 0, tokenSent: false });
    for (const result of results) {
      expect(result.micros).toHaveLength(plan.samples);
      for (const micros of result.micros) expect(micros).toBeGreaterThan(0);
    }

    const report = formatHandlerReport(results, plan);
    expect(report).toMatch(
      /^ours +[\d.]+ µs\/request \(samples [\d.]+-[\d.]+\), [-\d.]+ µs over the guide$/m,
    );
    expect(report).toContain(
      "baseline: answered 500, upstream called 0 time(s), token not sent: its figures do not count",
    );
    expect(report).not.toMatch(/^baseline +[\d.]+ µs/m);
  }, 60_000);

  it("has the stubbed API set a cookie only when asked", () => {
    const cookie = "session=1; Path=/";
    expect(driverModule({}, {}, {}, cookie)).toContain(`"set-cookie": ${JSON.stringify(cookie)},`);
    expect(driverModule({}, {}, {})).not.toContain("set-cookie");
  });
});
