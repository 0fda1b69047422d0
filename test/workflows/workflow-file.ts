import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

/** The parts of a GitHub Actions workflow file that the tests inspect. */
export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

export interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean };
  strategy?: { matrix?: Record<string, unknown>; "fail-fast"?: boolean };
  container?: string | { image: string; options?: string };
  env?: Record<string, unknown>;
  secrets?: unknown;
  steps?: Step[];
}

export interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, unknown>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, Job>;
}

export interface WorkflowFile {
  file: string;
  text: string;
  workflow: Workflow;
}

export const repoRoot = path.resolve(__dirname, "../..");
export const workflowsDir = path.join(repoRoot, ".github/workflows");

export function readWorkflow(file: string): WorkflowFile {
  const text = readFileSync(path.join(workflowsDir, file), "utf8");
  // YAML 1.2 (the `yaml` default) keeps the `on` key a string, as GitHub reads it.
  const workflow = parse(text) as Workflow;
  return { file, text, workflow };
}

/** The job with this id; fails by listing the jobs that do exist. */
export function job(workflow: Workflow, id: string): Job {
  const found = workflow.jobs[id];
  if (!found) {
    throw new Error(`no job "${id}"; jobs are: ${Object.keys(workflow.jobs).join(", ")}`);
  }
  return found;
}

export function needsOf(j: Job): string[] {
  if (j.needs === undefined) return [];
  return typeof j.needs === "string" ? [j.needs] : j.needs;
}

/** Every job that must finish before `id` starts, through chains of `needs`. */
export function upstreamOf(workflow: Workflow, id: string): Set<string> {
  const seen = new Set<string>();
  const pending = [...needsOf(job(workflow, id))];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...needsOf(job(workflow, next)));
  }
  return seen;
}

export function environmentOf(j: Job): string | undefined {
  return typeof j.environment === "object" ? j.environment.name : j.environment;
}

export function concurrencyGroupOf(j: Job): string | undefined {
  return typeof j.concurrency === "object" ? j.concurrency.group : j.concurrency;
}

/** Whether anything in the job reads a `secrets.` context: its env, steps or `with:`. */
export function holdsSecrets(j: Job): boolean {
  return /\bsecrets\./.test(JSON.stringify(j));
}

/** A `pulumi <command> ...` line of a run step, up to a pipe or redirection. */
export interface PulumiCall {
  command: string;
  stack: string | undefined;
  flags: string[];
}

export function pulumiCallOf(step: Step): PulumiCall | undefined {
  for (const line of (step.run ?? "").split("\n")) {
    const match = /^\s*pulumi\s+(.*)$/.exec(line);
    if (!match) continue;
    const words =
      (match[1] ?? "")
        .split(/\s+(?:\||2>&1|>)/)[0]
        ?.trim()
        .split(/\s+/) ?? [];
    const [command, ...rest] = words;
    if (!command) continue;
    const stackAt = rest.indexOf("--stack");
    return {
      command,
      stack: stackAt >= 0 ? rest[stackAt + 1] : undefined,
      flags: rest.filter((w) => w.startsWith("--") && w !== "--stack"),
    };
  }
  return undefined;
}

export function isPulumiStep(step: Step): boolean {
  return pulumiCallOf(step) !== undefined;
}

/** The job's single step that runs `pulumi`; fails if there is none or several. */
export function pulumiStep(j: Job): Step {
  const steps = (j.steps ?? []).filter(isPulumiStep);
  if (steps.length !== 1) {
    throw new Error(`expected one step that runs pulumi, found ${steps.length}`);
  }
  return steps[0] as Step;
}

export function pulumiCall(j: Job): PulumiCall {
  return pulumiCallOf(pulumiStep(j)) as PulumiCall;
}

/** Ids of the jobs that run `pulumi`. */
export function pulumiJobIds(workflow: Workflow): string[] {
  return Object.entries(workflow.jobs)
    .filter(([, j]) => (j.steps ?? []).some(isPulumiStep))
    .map(([id]) => id);
}

/** Index of the first step that satisfies `matches`, or -1. */
export function stepIndex(j: Job, matches: (step: Step) => boolean): number {
  return (j.steps ?? []).findIndex(matches);
}

/** The step with this name; fails by listing the names that do exist. */
export function namedStep(j: Job, name: string): Step {
  const found = (j.steps ?? []).find((s) => s.name === name);
  if (!found) {
    const names = (j.steps ?? []).map((s) => s.name ?? s.uses ?? s.run).join(" | ");
    throw new Error(`no step named "${name}"; steps are: ${names}`);
  }
  return found;
}

/** Runs a `run:` script as GitHub does with `shell: bash`. */
export function runScript(script: string, env: Record<string, string | undefined>) {
  return spawnSync("bash", ["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script], {
    env: { PATH: process.env["PATH"], ...env },
    cwd: repoRoot,
    encoding: "utf8",
  });
}

/** Every `${{ ... }}` expression in the text, without the braces, trimmed. */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => (m[1] ?? "").trim());
}

/** Each `uses:` line of a workflow: the action, its ref and the comment after it. */
export interface UsesLine {
  line: string;
  action: string;
  ref: string;
  comment: string | undefined;
}

export function usesLinesIn(text: string): UsesLine[] {
  return text
    .split("\n")
    .filter((line) => /^\s*(?:-\s+)?uses:/.test(line))
    .map((line) => {
      const match = /uses:\s*([^@\s#]+)@?([^\s#]*)\s*(?:#\s*(.*))?$/.exec(line);
      return {
        line: line.trim(),
        action: match?.[1] ?? "",
        ref: match?.[2] ?? "",
        comment: match?.[3]?.trim() || undefined,
      };
    });
}

const tokenPatterns: RegExp[] = [
  /gh[pousr]_[A-Za-z0-9]{20,}/, // GitHub tokens
  /github_pat_[A-Za-z0-9_]{20,}/,
  /pul-[0-9a-f]{40}/, // Pulumi access token
  /(AKIA|ASIA)[0-9A-Z]{16}/, // AWS access key id
];

/**
 * Literal strings that look like credentials: known token formats, and any run
 * of 32+ token characters mixing letters and digits (Cloudflare API tokens are
 * 40 such characters, AWS secret keys 40, passphrases often similar).
 * Expressions are dropped first, since `${{ secrets.NAME }}` is the allowed form,
 * and so are an action's commit SHA after `uses: owner/repo@` and an image's
 * `@sha256:` digest, which are pins, not secrets.
 */
export function tokenLookingValues(text: string): string[] {
  const literal = text
    .replace(/\$\{\{[\s\S]*?\}\}/g, "")
    .replace(/(uses:\s*[\w.-]+\/[\w./-]+)@[0-9a-f]{40}(?=\s)/g, "$1@")
    .replace(/@sha256:[0-9a-f]{64}\b/g, "@sha256:");
  const known = tokenPatterns.flatMap((p) => literal.match(new RegExp(p, "g")) ?? []);
  const random = (literal.match(/[A-Za-z0-9+/=_-]{32,}/g) ?? []).filter(
    (run) => /\d/.test(run) && /[A-Za-z]/.test(run),
  );
  return [...known, ...random];
}
