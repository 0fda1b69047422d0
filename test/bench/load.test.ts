import { loadArgs, parseAutocannonJson, parseWrkDuration, parseWrkOutput } from "../../bench/load";

const cleanRun = `Running 8s test @ http://127.0.0.1:40591/api/bench
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.81ms    2.02ms  41.33ms   91.12%
    Req/Sec     1.64k   142.35     1.90k    75.00%
  Latency Distribution
     50%    9.44ms
     75%   10.16ms
     90%   11.49ms
     99%   17.23ms
  26190 requests in 8.01s, 4.15MB read
Requests/sec:   3270.36
Transfer/sec:    530.12KB
`;

const failingRun = `Running 6s test @ http://127.0.0.1:40592/api/bench
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   152.95us  480.21us   8.84ms   95.62%
    Req/Sec    14.54k     4.63k   18.07k    80.95%
  Latency Distribution
     50%   53.00us
     75%   71.00us
     90%  140.00us
     99%    2.52ms
  30358 requests in 2.10s, 4.81MB read
  Socket errors: connect 0, read 2, write 1, timeout 4
  Non-2xx or 3xx responses: 30358
Requests/sec:  14458.54
Transfer/sec:      2.29MB
`;

describe("parseWrkDuration", () => {
  it.each([
    ["53.00us", 0.053],
    ["9.44ms", 9.44],
    ["2.00s", 2000],
    ["1.50m", 90_000],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseWrkDuration(text)).toBeCloseTo(ms, 6);
  });

  it("rejects a unit it does not know", () => {
    expect(() => parseWrkDuration("3.00ns")).toThrow(/unrecognised/);
  });
});

describe("parseWrkOutput", () => {
  it("reads req/s, the 50th percentile and the request count of a clean run", () => {
    expect(parseWrkOutput(cleanRun)).toEqual({
      requestsPerSecond: 3270.36,
      p50Ms: 9.44,
      requests: 26190,
      errors: 0,
    });
  });

  it("counts non-2xx responses and every kind of socket error as errors", () => {
    const result = parseWrkOutput(failingRun);
    expect(result.p50Ms).toBeCloseTo(0.053, 6);
    expect(result.requestsPerSecond).toBe(14458.54);
    expect(result.errors).toBe(30358 + 2 + 1 + 4);
  });

  it("throws when wrk ran without --latency, rather than reporting a p50 it never saw", () => {
    const withoutDistribution = cleanRun.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, "");
    expect(withoutDistribution).not.toMatch(/50%/);
    expect(() => parseWrkOutput(withoutDistribution)).toThrow(/could not read wrk output/);
  });
});

describe("parseAutocannonJson", () => {
  it("reads the average req/s and the p50 latency", () => {
    const json = JSON.stringify({
      requests: { average: 2100.5, total: 16804 },
      latency: { p50: 0.61 },
      non2xx: 3,
      errors: 1,
    });
    expect(parseAutocannonJson(json)).toEqual({
      requestsPerSecond: 2100.5,
      p50Ms: 0.61,
      requests: 16804,
      errors: 4,
    });
  });
});

describe("loadArgs", () => {
  const options = {
    url: "http://127.0.0.1:1/api/bench",
    headers: { Host: "app.mysite.com" },
    connections: 1,
    threads: 2,
    durationSeconds: 6,
  };

  it("asks wrk for the latency distribution, and no more threads than connections", () => {
    expect(loadArgs("wrk", options)).toEqual([
      "-t1",
      "-c1",
      "-d6s",
      "--latency",
      "-H",
      "Host: app.mysite.com",
      "http://127.0.0.1:1/api/bench",
    ]);
  });

  it("asks autocannon for JSON", () => {
    expect(loadArgs("autocannon", options)).toEqual([
      "-c",
      "1",
      "-d",
      "6",
      "-j",
      "-H",
      "Host: app.mysite.com",
      "http://127.0.0.1:1/api/bench",
    ]);
  });
});
