import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

const repoRoot = path.resolve(__dirname, "..", "..");
const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");

describe("README.md", () => {
  it("stays under 15 KB: what a person needs in the first minutes, the depth in docs/", () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(15_000);
  });

  it("links only to files that exist", () => {
    const links = [...readme.matchAll(/\]\(((?!https?:|#)[^)#\s]+)(?:#[^)]*)?\)/g)].map(
      (m) => m[1]!,
    );
    expect(links.length).toBeGreaterThan(10);
    for (const link of links)
      expect([link, existsSync(path.join(repoRoot, link))]).toEqual([link, true]);
  });

  it("gives the two commands a newcomer runs", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
  });
});
