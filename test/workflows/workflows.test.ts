import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import {
  Step,
  Workflow,
  WorkflowFile,
  concurrencyGroupOf,
  environmentOf,
  expressionsIn,
  holdsSecrets,
  isPulumiStep,
  job,
  namedStep,
  needsOf,
  pulumiCall,
  pulumiJobIds,
  pulumiStep,
  readWorkflow,
  repoRoot,
  runScript,
  stepIndex,
  tokenLookingValues,
  upstreamOf,
  usesLinesIn,
  workflowsDir,
} from "./workflow-file";

const preview = readWorkflow("preview.yml");
const deploy = readWorkflow("deploy.yml");
const destroy = readWorkflow("destroy.yml");
const drift = readWorkflow("drift.yml");
const allWorkflows = [preview, deploy, destroy, drift];
/** The workflows that run the full test command before any Pulumi job. */
const testedWorkflows = [preview, deploy, destroy];

const stacks = ["dev", "prod"];
const productionStacks = ["prod"];

/**
 * The GitHub environments the jobs use, and what each may hold: a stack's own
 * environment can change it; a `-preview` one holds a read-only token.
 */
const environments = ["dev", "dev-preview", "prod", "prod-preview"];
const productionEnvironments = ["prod", "prod-preview"];

/** The secrets docs/ci.md tells operators to create in each environment; nothing else may be read. */
const allowedSecrets = [
  "CLOUDFLARE_API_TOKEN",
  "PULUMI_BACKEND_URL",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_ACCESS_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
];

const installStepRun = "node -r ts-node/register/transpile-only .ci/install-pulumi.ts";
const sameRepository = "github.event.pull_request.head.repo.full_name == github.repository";
const onMain = "github.ref == 'refs/heads/main'";

const ciDoc = readFileSync(path.join(repoRoot, "docs/ci.md"), "utf8");
const dockerfile = readFileSync(path.join(repoRoot, ".ci/Dockerfile"), "utf8");

function secretRef(name: string): string {
  return `\${{ secrets.${name} }}`;
}

function triggers(workflow: Workflow): string[] {
  return Object.keys(workflow.on);
}

/** Every job of every workflow, with where it lives. */
const allJobs = allWorkflows.flatMap(({ file, workflow }) =>
  Object.entries(workflow.jobs).map(([id, j]) => ({ file, workflow, id, job: j })),
);
const secretJobs = allJobs.filter(({ job: j }) => holdsSecrets(j));
const pulumiJobs = allWorkflows.flatMap(({ file, workflow }) =>
  pulumiJobIds(workflow).map((id) => ({ file, workflow, id, job: job(workflow, id) })),
);

function runsCiScript(step: Step): boolean {
  return step.run?.trim() === "bash .ci/run";
}

function isCheckout(step: Step): boolean {
  return step.uses?.startsWith("actions/checkout@") ?? false;
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
  it("holds exactly the preview, deploy, destroy and drift workflows, all tested here", () => {
    expect(readdirSync(workflowsDir).sort()).toEqual([
      "deploy.yml",
      "destroy.yml",
      "drift.yml",
      "preview.yml",
    ]);
  });

  it.each(allWorkflows)("$file runs its scripts in bash with pipefail", ({ workflow }) => {
    expect(workflow.defaults?.run?.shell).toBe("bash");
  });

  it.each(allWorkflows)("$file gives the GitHub token read access only", ({ workflow }) => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    const writers = Object.entries(workflow.jobs)
      .filter(([, j]) => Object.values(j.permissions ?? {}).includes("write"))
      .map(([id]) => id);
    expect(writers).toEqual([]);
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

  it.each(testedWorkflows)(
    "in $file runs on Debian with Node 20, where .ci/run can install chromium",
    ({ workflow }) => {
      const test = job(workflow, "test");
      const container = test.container;
      const image = typeof container === "object" ? container.image : container;
      expect(image).toMatch(/^node:20-bookworm@/);
      expect(stepIndex(test, runsCiScript)).toBeGreaterThanOrEqual(0);
    },
  );

  it.each(testedWorkflows)(
    "in $file comes before every pulumi job, through `needs`",
    expectTestJobFirst,
  );

  it.each(testedWorkflows)("in $file gets no secrets and runs no Pulumi", ({ workflow }) => {
    const test = job(workflow, "test");
    expect(test.steps?.length).toBeGreaterThan(0);
    expect((test.steps ?? []).filter(isPulumiStep)).toEqual([]);
    expect(holdsSecrets(test)).toBe(false);
  });
});

describe("credentials", () => {
  const pullRequestWorkflows = allWorkflows.filter(({ workflow }) =>
    triggers(workflow).some((t) => t.startsWith("pull_request")),
  );

  it("no job triggered by pull_request holds a production secret", () => {
    expect(pullRequestWorkflows.map(({ file }) => file)).toEqual(["preview.yml"]);
    const holders = pullRequestWorkflows.flatMap(({ workflow }) =>
      Object.entries(workflow.jobs).filter(([, j]) => holdsSecrets(j)),
    );
    expect(holders.map(([id]) => id)).toEqual(["preview"]);
    for (const [id, j] of holders) {
      expect({ id, environment: environmentOf(j) }).toEqual({ id, environment: "dev-preview" });
      expect(productionEnvironments).not.toContain(environmentOf(j));
      expect(productionStacks).not.toContain(pulumiCall(j).stack);
    }
    for (const { text } of pullRequestWorkflows) {
      expect(text).not.toMatch(/environment:\s*prod/);
      expect(text).not.toMatch(/--stack\s+prod/);
    }
  });

  it("no job holds a deploy secret without an environment", () => {
    expect(secretJobs.map(({ id }) => id).sort()).toEqual(pulumiJobs.map(({ id }) => id).sort());
    for (const { file, id, job: j } of secretJobs) {
      expect({ file, id, environment: environmentOf(j) }).toEqual({
        file,
        id,
        environment: expect.stringMatching(/^[a-z0-9-]+$/),
      });
      expect(environments).toContain(environmentOf(j));
    }
  });

  it("hands no secrets to other workflows, and never runs on pull_request_target", () => {
    for (const { file, text, workflow } of allWorkflows) {
      expect({ file, triggers: triggers(workflow) }).not.toEqual({
        file,
        triggers: expect.arrayContaining(["pull_request_target"]),
      });
      expect(text).not.toMatch(/secrets:\s*inherit/);
    }
  });

  it("runs a pull request's real preview only for same-repository branches, on non-production stacks, in dev-preview", () => {
    const previewJob = job(preview.workflow, "preview");
    expect(previewJob.if).toBe(sameRepository);
    expect(environmentOf(previewJob)).toBe("dev-preview");
    expect(pulumiCall(previewJob)).toMatchObject({ command: "preview", stack: "dev" });
    expect(productionStacks).not.toContain(pulumiCall(previewJob).stack);
    expect(previewJob.strategy).toBeUndefined();
  });

  it("documents that dev-preview requires a reviewer's approval and holds a read-only token", () => {
    const section = ciDoc.split("\n").filter((line) => line.includes("`dev-preview`"));
    expect(section.length).toBeGreaterThan(0);
    expect(section.join("\n")).toMatch(/required reviewers/i);
    expect(section.join("\n")).toMatch(/read-only/i);
  });

  it("documents prod's environment as limited to main with required reviewers", () => {
    const line = ciDoc.split("\n").find((l) => /^\|\s*`prod`\s*\|/.test(l));
    expect(line).toBeDefined();
    expect(line).toMatch(/required reviewers/i);
    expect(line).toMatch(/`main`/);
  });

  it("gives a job that changes a stack that stack's environment, and a job that only previews prod the read-only one", () => {
    const changing = pulumiJobs.filter(({ job: j }) => pulumiCall(j).command !== "preview");
    expect(changing.length).toBe(4);
    for (const { id, job: j } of changing) {
      expect({ id, environment: environmentOf(j) }).toEqual({
        id,
        environment: pulumiCall(j).stack,
      });
    }
    const prodPreviews = pulumiJobs.filter(
      ({ job: j }) => pulumiCall(j).command === "preview" && pulumiCall(j).stack === "prod",
    );
    expect(prodPreviews.map(({ id }) => id).sort()).toEqual(["drift-prod", "preview-prod"]);
    for (const { job: j } of prodPreviews) expect(environmentOf(j)).toBe("prod-preview");
  });

  it("runs every dispatched or scheduled job that holds secrets only from main", () => {
    const dispatched = secretJobs.filter(({ workflow }) =>
      triggers(workflow).some((t) => t === "workflow_dispatch" || t === "schedule"),
    );
    expect(dispatched.map(({ id }) => id).sort()).toEqual([
      "destroy-dev",
      "destroy-prod",
      "drift-dev",
      "drift-prod",
    ]);
    for (const { id, job: j } of dispatched) {
      expect({ id, if: j.if }).toEqual({ id, if: expect.stringContaining(onMain) });
      expect(j.if?.startsWith(onMain)).toBe(true);
    }
  });
});

describe("supply chain", () => {
  const uses = allWorkflows.flatMap(({ file, text }) =>
    usesLinesIn(text).map((u) => ({ file, ...u })),
  );

  it("pins every `uses:` by a full commit SHA, with its version in a comment", () => {
    expect(uses.length).toBeGreaterThan(20);
    for (const u of uses) {
      expect({ line: u.line, ref: u.ref }).toEqual({
        line: u.line,
        ref: expect.stringMatching(/^[0-9a-f]{40}$/),
      });
      expect({ line: u.line, comment: u.comment }).toEqual({
        line: u.line,
        comment: expect.stringMatching(/^v\d+\.\d+\.\d+$/),
      });
    }
  });

  it("pins each action to one commit and version everywhere", () => {
    const pins = new Map<string, Set<string>>();
    for (const u of uses)
      pins.set(u.action, (pins.get(u.action) ?? new Set()).add(`${u.ref} ${u.comment}`));
    expect([...pins.keys()].sort()).toEqual(["actions/checkout", "actions/setup-node"]);
    for (const [action, refs] of pins)
      expect({ action, refs: refs.size }).toEqual({ action, refs: 1 });
  });

  it("pins the test container by digest, the one .ci/Dockerfile gives Dependabot", () => {
    const from = /^FROM\s+(\S+)\s*$/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^node:20-bookworm@sha256:[0-9a-f]{64}$/);
    const containers = allJobs.flatMap(({ file, id, job: j }) =>
      j.container === undefined
        ? []
        : [{ file, id, image: typeof j.container === "object" ? j.container.image : j.container }],
    );
    expect(containers.length).toBe(3);
    for (const c of containers) expect(c).toEqual({ ...c, image: from });
  });

  it("installs with `npm ci --ignore-scripts` in every job that holds secrets", () => {
    expect(secretJobs.length).toBeGreaterThan(0);
    for (const { file, id, job: j } of secretJobs) {
      const installs = (j.steps ?? [])
        .map((s) => s.run?.trim() ?? "")
        .filter((run) => /\bnpm\s+(ci|install|i)\b|\.ci\/run/.test(run));
      expect({ file, id, installs }).toEqual({ file, id, installs: ["npm ci --ignore-scripts"] });
    }
  });

  it("checks out with persist-credentials: false in every job that holds secrets", () => {
    expect(secretJobs.length).toBeGreaterThan(0);
    for (const { file, id, job: j } of secretJobs) {
      const checkouts = (j.steps ?? []).filter(isCheckout);
      expect({ file, id, checkouts: checkouts.length }).toEqual({ file, id, checkouts: 1 });
      expect({ file, id, persist: checkouts[0]?.with?.["persist-credentials"] }).toEqual({
        file,
        id,
        persist: false,
      });
    }
  });

  it("installs the Pulumi CLI and plugins, checksum-verified, before any Pulumi command runs", () => {
    expect(pulumiJobs.length).toBe(8);
    for (const { file, id, job: j } of pulumiJobs) {
      const install = stepIndex(j, (s) => s.run?.trim() === installStepRun);
      expect({ file, id, installed: install >= 0 }).toEqual({ file, id, installed: true });
      expect(install).toBeLessThan(stepIndex(j, isPulumiStep));
      expect(install).toBeGreaterThan(
        stepIndex(j, (s) => s.run?.trim() === "npm ci --ignore-scripts"),
      );
      const step = (j.steps ?? [])[install] as Step;
      expect(step.name).toMatch(/checksums verified/i);
      expect(step.env).toEqual({ GH_TOKEN: "${{ github.token }}" });
    }
    for (const { file, text, workflow } of allWorkflows) {
      expect({ file, env: workflow.env }).toEqual({
        file,
        env: expect.objectContaining({ PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" }),
      });
      expect(text).not.toMatch(/npx pulumi|pulumi\/actions|get\.pulumi\.com/);
    }
  });

  it("has Dependabot keep the actions, the npm packages and the container digest current", () => {
    const config = parse(readFileSync(path.join(repoRoot, ".github/dependabot.yml"), "utf8")) as {
      version: number;
      updates: { "package-ecosystem": string; directory: string }[];
    };
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => [u["package-ecosystem"], u.directory])).toEqual([
      ["github-actions", "/"],
      ["npm", "/"],
      ["docker", "/.ci"],
    ]);
  });
});

describe("preview.yml", () => {
  const { workflow } = preview;

  it("runs on pull requests to main and on nothing else", () => {
    expect(triggers(workflow)).toEqual(["pull_request"]);
    expect(workflow.on["pull_request"]).toEqual({ branches: ["main"] });
  });

  it("verifies every stack offline, without secrets, before previewing", () => {
    const verify = job(workflow, "verify");
    expect(verify.strategy?.matrix?.["stack"]).toEqual(stacks);
    expect(holdsSecrets(verify)).toBe(false);
    expect((verify.steps ?? []).map((s) => s.run?.trim()).filter(Boolean)).toEqual([
      "npm ci --ignore-scripts",
      "npm run verify -- --stack ${{ matrix.stack }}",
    ]);
    expect(needsOf(job(workflow, "preview"))).toEqual(expect.arrayContaining(["test", "verify"]));
  });

  it("shows the pull request's own changes: no refresh, no expect-no-changes", () => {
    const call = pulumiCall(job(workflow, "preview"));
    expect(call.command).toBe("preview");
    expect(call.flags).toContain("--diff");
    expect(call.flags).not.toContain("--refresh");
    expect(call.flags).not.toContain("--expect-no-changes");
  });

  it("puts the preview in the job summary, not in a pull-request comment", () => {
    const step = pulumiStep(job(workflow, "preview"));
    expect(step.run).toMatch(/2>&1 \| bash \.ci\/summarize "Preview \(dev\)"$/);
    expect(job(workflow, "preview").permissions).toBeUndefined();
  });
});

describe("deploy.yml", () => {
  const { workflow } = deploy;

  it("runs on push to main and on nothing else", () => {
    expect(triggers(workflow)).toEqual(["push"]);
    expect(workflow.on["push"]).toEqual({ branches: ["main"] });
  });

  it("runs `up` on dev after the tests", () => {
    const upDev = job(workflow, "up-dev");
    expect(needsOf(upDev)).toContain("test");
    expect(pulumiCall(upDev)).toMatchObject({ command: "up", stack: "dev" });
    expect(environmentOf(upDev)).toBe("dev");
  });

  it("runs `up` on prod only after dev, behind the prod environment's approval", () => {
    const upProd = job(workflow, "up-prod");
    expect([...upstreamOf(workflow, "up-prod")]).toEqual(
      expect.arrayContaining(["test", "up-dev", "preview-prod"]),
    );
    expect(environmentOf(upProd)).toBe("prod");
    expect(pulumiCall(upProd)).toMatchObject({ command: "up", stack: "prod" });
  });

  it("shows the prod preview, refreshed, in the run's summary before the approval is asked for", () => {
    const previewProd = job(workflow, "preview-prod");
    expect(needsOf(previewProd)).toContain("up-dev");
    expect(needsOf(job(workflow, "up-prod"))).toContain("preview-prod");
    expect(pulumiCall(previewProd)).toMatchObject({ command: "preview", stack: "prod" });
    expect(pulumiCall(previewProd).flags).toContain("--refresh");
    expect(pulumiStep(previewProd).run).toMatch(/\| bash \.ci\/summarize "Preview \(prod\)"$/);
  });

  it("refreshes before `up`, so resources deleted or edited outside Pulumi are restored", () => {
    for (const id of ["up-dev", "up-prod"]) {
      expect({ id, flags: pulumiCall(job(workflow, id)).flags }).toEqual({
        id,
        flags: expect.arrayContaining(["--refresh", "--yes"]),
      });
    }
  });

  it("has no other jobs that change a stack", () => {
    const changing = pulumiJobIds(workflow).filter(
      (id) => pulumiCall(job(workflow, id)).command !== "preview",
    );
    expect(changing.sort()).toEqual(["up-dev", "up-prod"]);
  });

  describe("prod's `up`", () => {
    const upProd = job(workflow, "up-prod");
    const check = namedStep(upProd, "Stop unless this commit is still main's head");
    const run = (head: string, sha: string) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "fake-gh-"));
      const log = path.join(dir, "calls");
      // A stand-in for the GitHub CLI: records how it was called and answers main's head.
      writeFileSync(
        path.join(dir, "gh"),
        `#!/bin/sh\necho "$* token=$GH_TOKEN" >> "${log}"\necho "${head}"\n`,
      );
      chmodSync(path.join(dir, "gh"), 0o755);
      const result = runScript(check.run ?? "", {
        PATH: `${dir}:${process.env["PATH"]}`,
        GH_TOKEN: "fake-token",
        GITHUB_REPOSITORY: "owner/access-bridge",
        GITHUB_SHA: sha,
      });
      return { ...result, calls: existsSync(log) ? readFileSync(log, "utf8") : "" };
    };
    const a = "a".repeat(40);
    const b = "b".repeat(40);

    it("checks main's head right before `pulumi up`, reading the token from env only", () => {
      expect(stepIndex(upProd, (s) => s === check)).toBe(stepIndex(upProd, isPulumiStep) - 1);
      expect(check.env).toEqual({ GH_TOKEN: "${{ github.token }}" });
      expect(expressionsIn(check.run ?? "")).toEqual([]);
    });

    it("applies a commit that is still main's head", () => {
      const result = run(a, a);
      expect(result.calls).toBe(
        "api repos/owner/access-bridge/commits/main --jq .sha token=fake-token\n",
      );
      expect(result.status).toBe(0);
    });

    it("stops a superseded run, saying so and that nothing was applied", () => {
      const result = run(b, a);
      expect(result.calls).toContain("commits/main");
      expect(result.status).not.toBe(0);
      expect(result.stdout).toContain("Superseded");
      expect(result.stdout).toContain(b);
      expect(result.stdout).toContain("Nothing was applied to prod");
    });

    it("stops when main's head cannot be read", () => {
      const result = run("", a);
      expect(result.status).not.toBe(0);
    });
  });
});

describe("drift.yml", () => {
  const { workflow, text } = drift;

  it("runs on a schedule and on demand, never on pull requests", () => {
    expect(triggers(workflow).sort()).toEqual(["schedule", "workflow_dispatch"]);
    const schedule = workflow.on["schedule"] as { cron: string }[];
    expect(schedule).toHaveLength(1);
    expect(schedule[0]?.cron).toMatch(/^\S+ \S+ \* \* \*$/);
  });

  it("checks every stack, from main only: main's code, refreshed, must show no changes", () => {
    const ids = pulumiJobIds(workflow).sort();
    expect(ids).toEqual(["drift-dev", "drift-prod"]);
    for (const stack of stacks) {
      const j = job(workflow, `drift-${stack}`);
      expect(j.if).toBe(onMain);
      expect(pulumiCall(j)).toMatchObject({ command: "preview", stack });
      expect(pulumiCall(j).flags).toEqual(
        expect.arrayContaining(["--refresh", "--expect-no-changes"]),
      );
      const checkout = (j.steps ?? []).find(isCheckout);
      expect(checkout?.with?.["ref"]).toBeUndefined();
    }
    expect(text).not.toMatch(/pull_request/);
  });

  it("takes no stack's concurrency group, where it could cancel a queued `up`", () => {
    for (const id of pulumiJobIds(workflow)) {
      expect(concurrencyGroupOf(job(workflow, id))).toBeUndefined();
    }
  });
});

describe("destroy.yml", () => {
  const { workflow, text } = destroy;
  const confirm = job(workflow, "confirm");

  function runConfirmation(stack: string, typed: string) {
    return runScript(namedStep(confirm, "Confirmation equals the stack name").run ?? "", {
      STACK: stack,
      CONFIRM: typed,
    });
  }

  it("runs only by manual dispatch", () => {
    expect(triggers(workflow)).toEqual(["workflow_dispatch"]);
  });

  it("requires the stack, chosen from dev and prod, and a typed confirmation", () => {
    const inputs = (workflow.on["workflow_dispatch"] as { inputs: Record<string, unknown> }).inputs;
    expect(inputs["stack"]).toMatchObject({ type: "choice", options: stacks, required: true });
    expect(inputs["confirm"]).toMatchObject({ type: "string", required: true });
  });

  it("passes the inputs to the confirmation script through env, not into its text", () => {
    const step = namedStep(confirm, "Confirmation equals the stack name");
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
  ])("rejects stack %j confirmed as %j, saying nothing was destroyed", (stack, typed) => {
    const result = runConfirmation(stack, typed);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain("Nothing was destroyed");
  });

  it("fails a run dispatched on any branch but main, saying nothing was destroyed", () => {
    const step = namedStep(confirm, "Dispatched on main");
    expect(runScript(step.run ?? "", { GITHUB_REF: "refs/heads/main" }).status).toBe(0);
    const elsewhere = runScript(step.run ?? "", { GITHUB_REF: "refs/heads/feature" });
    expect(elsewhere.status).not.toBe(0);
    expect(elsewhere.stdout).toContain("Nothing was destroyed");
  });

  it.each(stacks)(
    "destroys %s only from main, after the confirmation, and only when chosen",
    (stack) => {
      const destroyJob = job(workflow, `destroy-${stack}`);
      expect(needsOf(destroyJob).sort()).toEqual(["confirm", "test"]);
      expect(destroyJob.if).toBe(`${onMain} && inputs.stack == '${stack}'`);
      expect(pulumiCall(destroyJob)).toMatchObject({ command: "destroy", stack });
      expect(environmentOf(destroyJob)).toBe(stack);
    },
  );

  it("has no other jobs that run Pulumi", () => {
    expect(pulumiJobIds(workflow).sort()).toEqual(["destroy-dev", "destroy-prod"]);
  });

  it("explains that a protected stack stops, and how protection is lifted", () => {
    expect(text).toMatch(/cannot be deleted because it is protected/);
    expect(text).toMatch(/pulumi config set protect false --stack/);
  });
});

describe("destroy", () => {
  it.each([preview, deploy, drift])("is never run by $file", ({ workflow }) => {
    const commands = pulumiJobIds(workflow).map((id) => pulumiCall(job(workflow, id)).command);
    expect(commands.length).toBeGreaterThan(0);
    expect(commands).not.toContain("destroy");
  });
});

describe("every pulumi job", () => {
  it("is found in all four workflows", () => {
    expect(new Set(pulumiJobs.map(({ file }) => file))).toEqual(
      new Set(["preview.yml", "deploy.yml", "destroy.yml", "drift.yml"]),
    );
  });

  it.each(pulumiJobs)("$file $id runs pulumi non-interactively on a named stack", ({ job: j }) => {
    const call = pulumiCall(j);
    expect(call.stack).toMatch(/^(dev|prod)$/);
    expect(call.flags).toContain("--non-interactive");
  });

  it.each(pulumiJobs.filter(({ file }) => file !== "destroy.yml"))(
    "$file $id runs npm run verify for its stack before Pulumi",
    ({ job: j }) => {
      const verify = stepIndex(
        j,
        (s) => s.run?.trim() === `npm run verify -- --stack ${pulumiCall(j).stack}`,
      );
      expect(verify).toBeGreaterThan(
        stepIndex(j, (s) => s.run?.trim() === "npm ci --ignore-scripts"),
      );
      expect(verify).toBeLessThan(stepIndex(j, isPulumiStep));
    },
  );

  it.each(pulumiJobs)("$file $id targets a stack that has a config file", ({ job: j }) => {
    const stack = pulumiCall(j).stack as string;
    expect(stacks).toContain(stack);
    expect(existsSync(path.join(repoRoot, "stacks", `Pulumi.${stack}.yaml`))).toBe(true);
  });

  it.each(pulumiJobs)(
    "$file $id passes the credentials as secrets to the Pulumi step only",
    ({ job: j }) => {
      expect(pulumiStep(j).env).toEqual(
        Object.fromEntries(allowedSecrets.map((name) => [name, secretRef(name)])),
      );
      const others = (j.steps ?? []).filter((s) => !isPulumiStep(s));
      expect(others.length).toBeGreaterThan(0);
      for (const step of others) expect(JSON.stringify(step)).not.toMatch(/secrets\./);
      expect(JSON.stringify(j.env ?? {})).not.toMatch(/secrets\./);
    },
  );

  it("that changes a stack holds that stack's concurrency group, shared across workflows", () => {
    const changing = pulumiJobs.filter(({ job: j }) => pulumiCall(j).command !== "preview");
    expect(changing.map(({ id }) => id).sort()).toEqual([
      "destroy-dev",
      "destroy-prod",
      "up-dev",
      "up-prod",
    ]);
    for (const { file, id, job: j } of changing) {
      expect({ file, id, group: concurrencyGroupOf(j) }).toEqual({
        file,
        id,
        group: `pulumi-${pulumiCall(j).stack}`,
      });
      expect(typeof j.concurrency === "object" && j.concurrency["cancel-in-progress"]).toBe(false);
    }
  });

  it("that changes prod waits for the prod environment", () => {
    const prodChanges = pulumiJobs.filter(
      ({ job: j }) => pulumiCall(j).command !== "preview" && pulumiCall(j).stack === "prod",
    );
    expect(prodChanges.map(({ id }) => id).sort()).toEqual(["destroy-prod", "up-prod"]);
    for (const { job: j } of prodChanges) expect(environmentOf(j)).toBe("prod");
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
    },
  );

  it("are all used, so the documented list is the real one", () => {
    const used = new Set(
      allWorkflows.flatMap(({ text }) =>
        expressionsIn(text).flatMap((e) => /^secrets\.([A-Z0-9_]+)$/.exec(e)?.[1] ?? []),
      ),
    );
    expect([...used].sort()).toEqual([...allowedSecrets].sort());
    for (const name of allowedSecrets) expect(ciDoc).toContain(`\`${name}\``);
  });

  it.each(allWorkflows)("$file holds no secret at the workflow or job level", ({ workflow }) => {
    expect(JSON.stringify(workflow.env ?? {})).not.toMatch(/secrets\./);
    for (const j of Object.values(workflow.jobs)) {
      expect(JSON.stringify(j.env ?? {})).not.toMatch(/secrets\./);
    }
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
      "0123456789abcdef".repeat(3).slice(0, 40),
    ];
    for (const fake of fakes) {
      expect({ fake, found: tokenLookingValues(`VALUE: ${fake}\n`).length > 0 }).toEqual({
        fake,
        found: true,
      });
    }
  });

  it("accepts secret references, ordinary long words, action pins and image digests", () => {
    const sha = "0123456789abcdef".repeat(3).slice(0, 40);
    const digest = "0123456789abcdef".repeat(4);
    expect(
      tokenLookingValues(
        "TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}\n# preview-refresh-expect-no-changes-check\n" +
          `      - uses: actions/checkout@${sha} # v4.2.2\n` +
          `      image: node:20-bookworm@sha256:${digest}\n`,
      ),
    ).toEqual([]);
    expect(tokenLookingValues(`TOKEN: ${sha}\n`).length).toBeGreaterThan(0);
  });
});

describe(".ci/summarize", () => {
  const summarize = (input: string, status: number) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "summary-"));
    const summary = path.join(dir, "summary.md");
    const command = `{ printf '%s' "$INPUT"; exit ${status}; } | bash .ci/summarize "Preview (dev)"`;
    const result = runScript(command, { INPUT: input, GITHUB_STEP_SUMMARY: summary });
    return { ...result, summary: existsSync(summary) ? readFileSync(summary, "utf8") : "" };
  };

  it("copies the command's output to the log and, under a heading, to the job summary", () => {
    const result = summarize("+ 1 to create\n", 0);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("+ 1 to create\n");
    expect(result.summary).toBe("### Preview (dev)\n\n````text\n+ 1 to create\n````\n");
  });

  it("keeps the step failing when the command before it fails, its last line fenced too", () => {
    const result = summarize("error: expected no changes", 255);
    expect(result.summary).toContain("error: expected no changes\n````\n");
    expect(result.status).not.toBe(0);
  });
});

describe("documentation", () => {
  const docs = ["README.md", ...readdirSync(path.join(repoRoot, "docs")).map((f) => `docs/${f}`)]
    .filter((f) => f.endsWith(".md"))
    .map((file) => ({ file, text: readFileSync(path.join(repoRoot, file), "utf8") }));

  /** Every shell command in the docs that runs curl, continuation lines joined. */
  const curlCommands = docs.flatMap(({ file, text }) =>
    text
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .filter((line) => /\bcurl\b/.test(line) && /Authorization|API_TOKEN/.test(line))
      .map((line) => ({ file, line: line.trim() })),
  );

  it("never puts an API token on curl's command line: it reads the header from standard input", () => {
    expect(curlCommands.map(({ file }) => file)).toEqual(
      expect.arrayContaining(["docs/adopt.md", "docs/runbooks.md"]),
    );
    for (const { file, line } of curlCommands) {
      const curlPart = line.slice(line.search(/\bcurl\b/)).split("|")[0] ?? "";
      expect({ file, curlPart, header: /(?:-H|--header)\s+@(?:-|\S+)/.test(curlPart) }).toEqual({
        file,
        curlPart,
        header: true,
      });
      expect({ file, curlPart }).toEqual({
        file,
        curlPart: expect.not.stringMatching(/TOKEN|Bearer/),
      });
      expect(line).toMatch(/printf 'Authorization: Bearer %s\\n' "\$[A-Z_]*TOKEN" \|/);
    }
  });

  it("docs/ci.md sets up every environment the workflows use, with the read-only token's permissions", () => {
    for (const name of environments) expect(ciDoc).toContain(`\`${name}\``);
    const used = new Set(allJobs.flatMap(({ job: j }) => environmentOf(j) ?? []));
    expect([...used].sort()).toEqual([...environments].sort());
    expect(ciDoc).toMatch(/never as repository secrets/i);
    for (const permission of [
      "Access: Apps and Policies",
      "Access: Service Tokens",
      "Workers Scripts",
      "Workers Routes",
    ]) {
      expect(ciDoc).toMatch(new RegExp(`${permission}\\s*\\|\\s*Read`));
    }
  });
});
