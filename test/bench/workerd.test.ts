import { renderConfig, type WorkerSpec } from "../../bench/workerd";

const worker: WorkerSpec = {
  name: "ours",
  moduleName: "index.js",
  source: "export default {}",
  compatibilityDate: "2026-04-01",
  bindings: { API_HOSTNAME: "api.mysite.com", QUOTED: 'a"b' },
};

describe("renderConfig", () => {
  const config = renderConfig([worker], "127.0.0.1:4321");

  it("sends the Worker's outbound fetches as plain HTTP to the local upstream", () => {
    expect(config).toContain(
      '(name = "upstream", external = (address = "127.0.0.1:4321", http = ())),',
    );
    expect(config).toContain('globalOutbound = "upstream",');
  });

  it("serves the Worker on an ephemeral loopback port and embeds its module", () => {
    expect(config).toContain(
      '(name = "ours", address = "127.0.0.1:0", http = (), service = "ours"),',
    );
    expect(config).toContain('esModule = embed "ours/index.js"');
    expect(config).toContain('compatibilityDate = "2026-04-01"');
  });

  it("escapes binding values as string literals", () => {
    expect(config).toContain('(name = "QUOTED", text = "a\\"b"),');
  });

  it("refuses a name that would not be a valid constant", () => {
    expect(() => renderConfig([{ ...worker, name: "our-worker" }], "127.0.0.1:1")).toThrow(
      /letters and digits/,
    );
  });
});
