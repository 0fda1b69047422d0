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
  steps?: Step[];
}

export interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

export interface WorkflowFile {
  file: string;
  text: string;
  workflow: Workflow;
}

export const workflowsDir = path.resolve(__dirname, "../../.github/workflows");

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

export const pulumiAction = "pulumi/actions@v6";

export function isPulumiStep(step: Step): boolean {
  return step.uses?.startsWith("pulumi/actions") ?? false;
}

/** The job's single pulumi/actions step; fails if there is none or several. */
export function pulumiStep(j: Job): Step {
  const steps = (j.steps ?? []).filter(isPulumiStep);
  if (steps.length !== 1) {
    throw new Error(`expected one pulumi/actions step, found ${steps.length}`);
  }
  return steps[0] as Step;
}

/** Ids of the jobs that run pulumi/actions. */
export function pulumiJobIds(workflow: Workflow): string[] {
  return Object.entries(workflow.jobs)
    .filter(([, j]) => (j.steps ?? []).some(isPulumiStep))
    .map(([id]) => id);
}

/** Index of the first step that satisfies `matches`, or -1. */
export function stepIndex(j: Job, matches: (step: Step) => boolean): number {
  return (j.steps ?? []).findIndex(matches);
}

/** Every `${{ ... }}` expression in the text, without the braces, trimmed. */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => (m[1] ?? "").trim());
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
 * Expressions are dropped first, since `${{ secrets.NAME }}` is the allowed form.
 */
export function tokenLookingValues(text: string): string[] {
  const literal = text.replace(/\$\{\{[\s\S]*?\}\}/g, "");
  const known = tokenPatterns.flatMap((p) => literal.match(new RegExp(p, "g")) ?? []);
  const random = (literal.match(/[A-Za-z0-9+/=_-]{32,}/g) ?? []).filter(
    (run) => /\d/.test(run) && /[A-Za-z]/.test(run),
  );
  return [...known, ...random];
}
