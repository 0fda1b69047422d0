import { bundleWorker } from "../../worker/build";

describe("the Worker bundle", () => {
  const bundle = bundleWorker();

  it("is one self-contained module with no imports left", () => {
    expect(bundle).toMatch(/export\s*\{/);
    expect(bundle).not.toMatch(/(^|[;}\s])import\s*[\w{*"'(]/);
    expect(bundle).not.toMatch(/\brequire\s*\(/);
  });

  it("is under 40 KB, its budget", () => {
    expect(Buffer.byteLength(bundle)).toBeLessThan(40_000);
  });

  it("is deterministic", () => {
    expect(bundleWorker()).toBe(bundle);
  });
});
