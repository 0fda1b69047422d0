/**
 * What the program turns on for operators: Workers Logs on every Worker, at
 * the configured sampling rate or off, and an Analytics Engine dataset bound
 * to every Worker when one is named.
 */
import * as path from "node:path";
import { resourceTypes as T } from "../../infra/resource-types";
import {
  declareStack,
  named,
  only,
  resourcesFromLastRun,
  type DeclaredResource,
} from "../support/stacks";

const programs = path.join(__dirname, "..", "fixtures", "programs");

type Binding = { name: string; type: string; dataset?: string };
const bindingsOf = (worker: DeclaredResource): Binding[] => worker.inputs.bindings as Binding[];
const analyticsOf = (worker: DeclaredResource): Binding | undefined =>
  bindingsOf(worker).find((b) => b.name === "ANALYTICS");

describe("Workers Logs", () => {
  it("are on for every Worker, with invocation logs, sampling every request by default", async () => {
    const stack = await declareStack("apis");
    const workers = only(stack, T.script);
    expect(workers).toHaveLength(2);
    for (const worker of workers) {
      expect([worker.name, worker.inputs.observability]).toEqual([
        worker.name,
        {
          enabled: true,
          headSamplingRate: 1,
          logs: { enabled: true, invocationLogs: true, headSamplingRate: 1 },
        },
      ]);
    }
    expect(stack.violations).toEqual([]);
  });

  it("sample every Worker at the configured rate", async () => {
    const stack = await declareStack("apis", { config: { workerLogsSampleRate: "0.25" } });
    for (const worker of only(stack, T.script)) {
      expect([worker.name, worker.inputs.observability]).toEqual([
        worker.name,
        {
          enabled: true,
          headSamplingRate: 0.25,
          logs: { enabled: true, invocationLogs: true, headSamplingRate: 0.25 },
        },
      ]);
    }
  });

  it("are declared off on every Worker with workerLogs: false", async () => {
    const stack = await declareStack("apis", { config: { workerLogs: false } });
    for (const worker of only(stack, T.script)) {
      expect([worker.name, worker.inputs.observability]).toEqual([
        worker.name,
        { enabled: false, logs: { enabled: false, invocationLogs: false } },
      ]);
    }
  });

  it.each([0, 1.5])(
    "refuse a sampling rate of %s, naming the key, with nothing declared",
    async (rate) => {
      const run = declareStack("apis", { config: { workerLogsSampleRate: rate } });
      await expect(run).rejects.toMatchObject({
        name: "ConfigError",
        problems: [
          `access-bridge:workerLogsSampleRate: must be a number above 0 and at most 1 (0.1 keeps one in ten), got "${rate}"`,
        ],
      });
      expect(resourcesFromLastRun()).toEqual([]);
    },
  );
});

describe("an Analytics Engine dataset", () => {
  it("is bound to every Worker as ANALYTICS with analyticsDataset: access_bridge", async () => {
    const stack = await declareStack("apis", { config: { analyticsDataset: "access_bridge" } });
    const workers = only(stack, T.script);
    expect(workers).toHaveLength(2);
    for (const worker of workers) {
      expect([worker.name, analyticsOf(worker)]).toEqual([
        worker.name,
        { name: "ANALYTICS", type: "analytics_engine", dataset: "access_bridge" },
      ]);
    }
    expect(stack.violations).toEqual([]);
  });

  it("is bound to none without one, so the Workers count nothing", async () => {
    const stack = await declareStack("apis");
    for (const worker of only(stack, T.script)) expect(analyticsOf(worker)).toBeUndefined();
  });
});

describe("the component's arguments", () => {
  it("turn Workers Logs off, or sample and count, for that component's Workers alone", async () => {
    const stack = await declareStack("dev", {
      program: path.join(programs, "observability-args.ts"),
    });
    expect(named(stack, "quiet-worker").inputs.observability).toEqual({
      enabled: false,
      logs: { enabled: false, invocationLogs: false },
    });
    expect(analyticsOf(named(stack, "quiet-worker"))).toBeUndefined();
    const counted = named(stack, "counted-worker");
    expect(counted.inputs.observability).toEqual({
      enabled: true,
      headSamplingRate: 0.2,
      logs: { enabled: true, invocationLogs: true, headSamplingRate: 0.2 },
    });
    expect(analyticsOf(counted)).toEqual({
      name: "ANALYTICS",
      type: "analytics_engine",
      dataset: "access_bridge",
    });
  });

  it("refuse a sampling rate of 0, naming the argument, before anything is declared", async () => {
    await expect(
      declareStack("dev", { program: path.join(programs, "bad-sample-rate.ts") }),
    ).rejects.toMatchObject({
      name: "ConfigError",
      message: expect.stringContaining("workerLogsSampleRate: must be a number above 0"),
    });
    expect(resourcesFromLastRun()).toEqual([]);
  });
});
