import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  Job,
  Step,
  Workflow,
  WorkflowFile,
  concurrencyGroupOf,
  environmentOf,
  expressionsIn,
  isPulumiStep,
  job,
  needsOf,
  pulumiAction,
  pulumiJobIds,
  pulumiStep,
  readWorkflow,
  stepIndex,
  tokenLookingValues,
  upstreamOf,
  workflowsDir,
} from "./workflow-file";

const repoRoot = path.resolve(__dirname, "../..");
const preview = readWorkflow("preview.yml");
const deploy = readWorkflow("deploy.yml");
const destroy = readWorkflow("destroy.yml");
const allWorkflows = [preview, deploy, destroy];

const stacks = ["dev", "prod"];

/** The secrets the README tells operators to create; nothing else may be read. */
const allowedSecrets = [
  "CLOUDFLARE_API_TOKEN",
  "PULUMI_BACKEND_URL",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_ACCESS_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
];
/** Passed to Pulumi as environment variables of the same name. */
const pulumiEnvSecrets = allowedSecrets.filter((name) => name !== "PULUMI_BACKEND_URL");

const packageJson = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
};

function secretRef(name: string): string {
  return `\${{ secrets.${name} }}`;
}

function pulumiInput(j: Job, input: string): unknown {
  return pulumiStep(j).with?.[input];
}

function matrixStacks(j: Job): unknown {
  return j.strategy?.matrix?.["stack"];
}

function runsCiScript(step: Step): boolean {
  return step.run?.trim() === "bash .ci/run";
}

function expectTestJobFirst(wf: WorkflowFile): void {
  const test = job(wf.workflow, "test");
  expect(needsOf(test)).toEqual([]);
  expect(stepIndex(test, runsCiScript)).toBeGreaterThanOrEqual(0);
  const ids = pulumiJobIds(wf.workflow);
  expect(ids.length).toBeGreaterThan(0);
  for (const id of ids) {
    expect({ id, upstream: [...upstreamOf(wf.workflow, id)] }).toEqual({
      id,
      upstream: expect.arrayContaining(["test"]),
    });
  }
}

describe(".github/workflows", () => {
  it("holds exactly the preview, deploy and destroy workflows, all tested here", () => {
    expect(readdirSync(workflowsDir).sort()).toEqual(["deploy.yml", "destroy.yml", "preview.yml"]);
  });
});

describe("the test job", () => {
  it("runs .ci/run, whose commands are `npm ci` then `npm test`", () => {
    const script = readFileSync(path.join(repoRoot, ".ci/run"), "utf8");
    const lines = script.split("\n").map((line) => line.trim());
    expect(lines).toContain("npm ci");
    expect(lines).toContain("npm test");
    expect(lines.indexOf("npm ci")).toBeLessThan(lines.indexOf("npm test"));
  });

  it.each(allWorkflows)(
    "in $file runs on Debian with Node 20, where .ci/run can install chromium",
    ({ workflow }) => {
      const test = job(workflow, "test");
      const container = test.container;
      const image = typeof container === "object" ? container.image : container;
      expect(image).toBe("node:20-bookworm");
      expect(stepIndex(test, runsCiScript)).toBeGreaterThanOrEqual(0);
    },
  );

  it.each(allWorkflows)(
    "in $file comes before every pulumi job, through `needs`",
    expectTestJobFirst,
  );

  it.each(allWorkflows)("in $file gets no secrets and runs no Pulumi", ({ workflow }) => {
    const test = job(workflow, "test");
    expect(test.steps?.length).toBeGreaterThan(0);
    expect((test.steps ?? []).filter(isPulumiStep)).toEqual([]);
    expect(JSON.stringify(test)).not.toMatch(/secrets\./);
  });
});

describe("preview.yml", () => {
  const { workflow } = preview;

  it("runs on pull requests to main and on nothing else", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(workflow.on["pull_request"]).toEqual({ branches: ["main"] });
  });

  it("previews every stack and comments the diff on the pull request", () => {
    const previewJob = job(workflow, "preview");
    expect(needsOf(previewJob)).toContain("test");
    expect(matrixStacks(previewJob)).toEqual(stacks);
    expect(pulumiInput(previewJob, "command")).toBe("preview");
    expect(pulumiInput(previewJob, "stack-name")).toBe("${{ matrix.stack }}");
    expect(pulumiInput(previewJob, "comment-on-pr")).toBe(true);
    expect(pulumiInput(previewJob, "github-token")).toBe("${{ github.token }}");
  });

  it("verifies every stack offline, without secrets, before previewing", () => {
    const verify = job(workflow, "verify");
    expect(matrixStacks(verify)).toEqual(stacks);
    expect(JSON.stringify(verify)).not.toMatch(/secrets\./);
    expect((verify.steps ?? []).map((s) => s.run?.trim()).filter(Boolean)).toEqual([
      "npm ci",
      "npm run verify -- --stack ${{ matrix.stack }}",
    ]);
    expect(needsOf(job(workflow, "preview"))).toEqual(expect.arrayContaining(["test", "verify"]));
  });

  it("shows the pull request's own changes: no refresh, no expect-no-changes", () => {
    const previewJob = job(workflow, "preview");
    expect(pulumiInput(previewJob, "command")).toBe("preview");
    expect(pulumiInput(previewJob, "refresh")).toBeUndefined();
    expect(pulumiInput(previewJob, "expect-no-changes")).toBeUndefined();
  });

  it("checks every stack for drift: main's code, refreshed, must show no changes", () => {
    const drift = job(workflow, "drift");
    expect(needsOf(drift)).toContain("test");
    expect(matrixStacks(drift)).toEqual(stacks);
    const checkout = (drift.steps ?? []).find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["ref"]).toBe("${{ github.event.pull_request.base.ref }}");
    expect(pulumiInput(drift, "command")).toBe("preview");
    expect(pulumiInput(drift, "stack-name")).toBe("${{ matrix.stack }}");
    expect(pulumiInput(drift, "refresh")).toBe(true);
    expect(pulumiInput(drift, "expect-no-changes")).toBe(true);
  });

  it("keeps the drift check off the PR, where it would overwrite the preview comment", () => {
    const drift = job(workflow, "drift");
    expect(pulumiInput(drift, "command")).toBe("preview");
    expect(pulumiInput(drift, "comment-on-pr")).toBeUndefined();
  });

  it("grants pull-requests: write to the preview job only", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(job(workflow, "preview").permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
    });
    const writers = Object.entries(workflow.jobs)
      .filter(([, j]) => Object.values(j.permissions ?? {}).includes("write"))
      .map(([id]) => id);
    expect(writers).toEqual(["preview"]);
  });
});

describe("deploy.yml", () => {
  const { workflow } = deploy;

  it("runs on push to main and on nothing else", () => {
    expect(Object.keys(workflow.on)).toEqual(["push"]);
    expect(workflow.on["push"]).toEqual({ branches: ["main"] });
  });

  it("runs `up` on dev after the tests", () => {
    const upDev = job(workflow, "up-dev");
    expect(needsOf(upDev)).toContain("test");
    expect(pulumiInput(upDev, "command")).toBe("up");
    expect(pulumiInput(upDev, "stack-name")).toBe("dev");
  });

  it("runs `up` on prod only after dev, behind the production environment's approval", () => {
    const upProd = job(workflow, "up-prod");
    expect([...upstreamOf(workflow, "up-prod")]).toEqual(
      expect.arrayContaining(["test", "up-dev", "preview-prod"]),
    );
    expect(environmentOf(upProd)).toBe("production");
    expect(pulumiInput(upProd, "command")).toBe("up");
    expect(pulumiInput(upProd, "stack-name")).toBe("prod");
  });

  it("shows the prod preview before the approval is asked for", () => {
    const previewProd = job(workflow, "preview-prod");
    expect(needsOf(previewProd)).toContain("up-dev");
    expect(needsOf(job(workflow, "up-prod"))).toContain("preview-prod");
    expect(pulumiInput(previewProd, "command")).toBe("preview");
    expect(pulumiInput(previewProd, "stack-name")).toBe("prod");
    expect(pulumiInput(previewProd, "refresh")).toBe(true);
    expect(pulumiInput(previewProd, "comment-on-summary")).toBe(true);
  });

  it("refreshes before `up`, so resources deleted or edited outside Pulumi are restored", () => {
    for (const id of ["up-dev", "up-prod"]) {
      expect({ id, refresh: pulumiInput(job(workflow, id), "refresh") }).toEqual({
        id,
        refresh: true,
      });
    }
  });

  it("has no other jobs that change a stack", () => {
    const changing = pulumiJobIds(workflow).filter(
      (id) => pulumiInput(job(workflow, id), "command") !== "preview",
    );
    expect(changing.sort()).toEqual(["up-dev", "up-prod"]);
  });
});

describe("destroy.yml", () => {
  const { workflow, text } = destroy;
  const confirmStep = (): Step => {
    const step = (job(workflow, "confirm").steps ?? []).find((s) => s.run !== undefined);
    if (!step?.run) throw new Error("the confirm job has no run step");
    return step;
  };

  function runConfirmation(stack: string, confirm: string) {
    // GitHub runs `run:` scripts with `bash -e -o pipefail`.
    return spawnSync("bash", ["-e", "-o", "pipefail", "-c", confirmStep().run ?? ""], {
      env: { PATH: process.env["PATH"], STACK: stack, CONFIRM: confirm },
      encoding: "utf8",
    });
  }

  it("runs only by manual dispatch", () => {
    expect(Object.keys(workflow.on)).toEqual(["workflow_dispatch"]);
  });

  it("requires the stack, chosen from dev and prod, and a typed confirmation", () => {
    const inputs = (workflow.on["workflow_dispatch"] as { inputs: Record<string, unknown> }).inputs;
    expect(inputs["stack"]).toMatchObject({ type: "choice", options: stacks, required: true });
    expect(inputs["confirm"]).toMatchObject({ type: "string", required: true });
  });

  it("passes the inputs to the confirmation script through env, not into its text", () => {
    const step = confirmStep();
    expect(step.env).toEqual({
      STACK: "${{ inputs.stack }}",
      CONFIRM: "${{ inputs.confirm }}",
    });
    expect(expressionsIn(step.run ?? "")).toEqual([]);
  });

  it.each(stacks)("accepts the confirmation when it equals the stack (%s)", (stack) => {
    expect(runConfirmation(stack, stack).status).toBe(0);
  });

  it.each([
    ["prod", "dev"],
    ["prod", ""],
    ["prod", "prod "],
    ["prod", "PROD"],
    ["dev", 'x" = "x'],
  ])("rejects stack %j confirmed as %j, saying nothing was destroyed", (stack, confirm) => {
    const result = runConfirmation(stack, confirm);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain("Nothing was destroyed");
  });

  it.each(stacks)("destroys %s only after the confirmation, and only when chosen", (stack) => {
    const destroyJob = job(workflow, `destroy-${stack}`);
    expect(needsOf(destroyJob).sort()).toEqual(["confirm", "test"]);
    expect(destroyJob.if).toBe(`inputs.stack == '${stack}'`);
    expect(pulumiInput(destroyJob, "command")).toBe("destroy");
    expect(pulumiInput(destroyJob, "stack-name")).toBe(stack);
  });

  it("puts prod's destroy behind the production environment's approval", () => {
    expect(environmentOf(job(workflow, "destroy-prod"))).toBe("production");
  });

  it("has no other jobs that run Pulumi", () => {
    expect(pulumiJobIds(workflow).sort()).toEqual(["destroy-dev", "destroy-prod"]);
  });

  it("explains that a protected stack stops, and how protection is lifted", () => {
    expect(text).toMatch(/cannot be deleted because it is protected/);
    expect(text).toMatch(/pulumi config set protect false --stack/);
  });
});

describe("destroy", () => {
  it.each([preview, deploy])("is never run by $file", ({ workflow }) => {
    const commands = pulumiJobIds(workflow).map((id) => pulumiInput(job(workflow, id), "command"));
    expect(commands.length).toBeGreaterThan(0);
    expect(commands).not.toContain("destroy");
  });
});

describe("every pulumi job", () => {
  const pulumiJobs = allWorkflows.flatMap(({ file, workflow }) =>
    pulumiJobIds(workflow).map((id) => ({ file, id, job: job(workflow, id) })),
  );

  it("is found in all three workflows", () => {
    expect(new Set(pulumiJobs.map(({ file }) => file))).toEqual(
      new Set(["preview.yml", "deploy.yml", "destroy.yml"]),
    );
  });

  it.each(pulumiJobs)(
    "$file $id uses pulumi/actions@v6 with the CLI version of package.json",
    ({ job: j }) => {
      const step = pulumiStep(j);
      expect(step.uses).toBe(pulumiAction);
      expect(step.with?.["pulumi-version"]).toBe(packageJson.devDependencies["pulumi"]);
    },
  );

  it.each(pulumiJobs)("$file $id installs dependencies before Pulumi runs", ({ job: j }) => {
    const install = stepIndex(j, (s) => s.run?.trim() === "npm ci");
    expect(install).toBeGreaterThanOrEqual(0);
    expect(install).toBeLessThan(stepIndex(j, isPulumiStep));
  });

  it.each(pulumiJobs.filter(({ file }) => file !== "destroy.yml"))(
    "$file $id runs npm run verify for its stack before Pulumi",
    ({ job: j }) => {
      const stackName = pulumiInput(j, "stack-name");
      const verify = stepIndex(
        j,
        (s) => s.run?.trim() === `npm run verify -- --stack ${stackName}`,
      );
      expect(verify).toBeGreaterThan(stepIndex(j, (s) => s.run?.trim() === "npm ci"));
      expect(verify).toBeLessThan(stepIndex(j, isPulumiStep));
    },
  );

  it.each(pulumiJobs)("$file $id targets a stack that has a config file", ({ job: j }) => {
    const stackName = pulumiInput(j, "stack-name");
    const named = stackName === "${{ matrix.stack }}" ? matrixStacks(j) : [stackName];
    expect(named).toEqual(expect.arrayContaining([expect.stringMatching(/^(dev|prod)$/)]));
    for (const stack of named as string[]) {
      expect(stacks).toContain(stack);
      expect(existsSync(path.join(repoRoot, "stacks", `Pulumi.${stack}.yaml`))).toBe(true);
    }
  });

  it.each(pulumiJobs)(
    "$file $id logs in to the backend and passes credentials as secrets",
    ({ job: j }) => {
      const step = pulumiStep(j);
      expect(step.with?.["cloud-url"]).toBe(secretRef("PULUMI_BACKEND_URL"));
      expect(step.env).toEqual(
        Object.fromEntries(pulumiEnvSecrets.map((name) => [name, secretRef(name)])),
      );
    },
  );

  it("that changes a stack holds that stack's concurrency group, shared across workflows", () => {
    const changing = pulumiJobs.filter(({ job: j }) => pulumiInput(j, "command") !== "preview");
    expect(changing.map(({ id }) => id).sort()).toEqual([
      "destroy-dev",
      "destroy-prod",
      "up-dev",
      "up-prod",
    ]);
    for (const { file, id, job: j } of changing) {
      const stack = pulumiInput(j, "stack-name");
      expect({ file, id, group: concurrencyGroupOf(j) }).toEqual({
        file,
        id,
        group: `pulumi-${String(stack)}`,
      });
      expect(typeof j.concurrency === "object" && j.concurrency["cancel-in-progress"]).toBe(false);
    }
  });

  it("that changes prod waits for the production environment", () => {
    const prodChanges = pulumiJobs.filter(
      ({ job: j }) =>
        pulumiInput(j, "command") !== "preview" && pulumiInput(j, "stack-name") === "prod",
    );
    expect(prodChanges.map(({ id }) => id).sort()).toEqual(["destroy-prod", "up-prod"]);
    for (const { job: j } of prodChanges) expect(environmentOf(j)).toBe("production");
  });
});

describe("secrets", () => {
  it.each(allWorkflows)(
    "$file reads only allowed secrets, each as ${{ secrets.NAME }}",
    ({ text }) => {
      const mentions = expressionsIn(text).filter((e) => /secrets/.test(e));
      expect(mentions.length).toBeGreaterThan(0);
      for (const expression of mentions) {
        const name = /^secrets\.([A-Z0-9_]+)$/.exec(expression)?.[1];
        expect({
          expression,
          allowed: name !== undefined && allowedSecrets.includes(name),
        }).toEqual({ expression, allowed: true });
      }
      expect(text).not.toMatch(/secrets:\s*inherit/);
    },
  );

  it("are all used, so the documented list is the real one", () => {
    const used = new Set(
      allWorkflows.flatMap(({ text }) =>
        expressionsIn(text).flatMap((e) => /^secrets\.([A-Z0-9_]+)$/.exec(e)?.[1] ?? []),
      ),
    );
    expect([...used].sort()).toEqual([...allowedSecrets].sort());
  });

  it.each(allWorkflows)("$file hands secrets to pulumi/actions steps only", ({ workflow }) => {
    const carriers = (wf: Workflow) =>
      Object.entries(wf.jobs).flatMap(([id, j]) => [
        ...(j.env ? [`${id}.env`] : []),
        ...(j.steps ?? [])
          .filter((s) => !isPulumiStep(s) && JSON.stringify(s).includes("secrets."))
          .map((s) => `${id}: ${s.name ?? s.uses ?? s.run}`),
      ]);
    expect(workflow.env).toBeUndefined();
    expect(carriers(workflow)).toEqual([]);
  });

  it.each(allWorkflows)("$file contains no literal token-looking value", ({ text }) => {
    expect(tokenLookingValues(text)).toEqual([]);
  });
});

describe("tokenLookingValues", () => {
  it("finds tokens in known formats and long random strings", () => {
    const fakes = [
      `ghp_${"a1B2".repeat(9)}`,
      `pul-${"0123456789abcdef".repeat(3).slice(0, 40)}`,
      `AKIA${"ABCD2345".repeat(2)}`,
      "x9".repeat(20),
    ];
    for (const fake of fakes) {
      expect({ fake, found: tokenLookingValues(`VALUE: ${fake}\n`).length > 0 }).toEqual({
        fake,
        found: true,
      });
    }
  });

  it("accepts secret references and ordinary long words", () => {
    expect(
      tokenLookingValues(
        "TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}\n# preview-refresh-expect-no-changes-check\n",
      ),
    ).toEqual([]);
  });
});
