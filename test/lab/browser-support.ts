/**
 * Shared set-up for the lab's browser tests: one lab and one headless Debian
 * Chromium per test file, driven by playwright-core. Nothing downloads a browser.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { headlessFlags, labFlags, prepareProfile } from "../../lab/browser";
import type { ControlReply, ControlRequest, ReadyMessage } from "../../lab/control";
import type { LogEntry } from "../../lab/log";
import type { CaseResult } from "../../lab/page/case-result";
import { fixtureStackFile } from "../support/stacks";

export const chromiumPath = "/usr/bin/chromium";
const repoRoot = path.resolve(__dirname, "..", "..");
/** Below the 90 s the test files give their beforeAll. */
const readyTimeoutMs = 75_000;

/** The lab, running as `npm start` runs it but in a child process, with a control channel. */
export interface LabProcess extends ReadyMessage {
  use(
    scenario: string,
  ): Promise<{ frontendUrl: string; pageUrl: string; apiUrl: string; apiUrls: string[] }>;
  log(since: number): Promise<{ entries: LogEntry[]; last: number }>;
  stop(): Promise<void>;
}

export interface Session {
  lab: LabProcess;
  context: BrowserContext;
  page: Page;
  frontendUrl: string;
  /** The lab's page: the front end's root, or /__lab/ in front of the user's own front end. */
  pageUrl: string;
  /** The first API's root. */
  apiUrl: string;
  /** Every API's root, in order. */
  apiUrls: string[];
  /** Chromium's console messages on the page, oldest first. */
  console: string[];
  close(): Promise<void>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

async function forkLab(stack: string, labArgs: string[]): Promise<LabProcess> {
  const child: ChildProcess = fork(
    path.join(repoRoot, "lab", "start.ts"),
    [
      "--stack",
      stack,
      "--config-file",
      fixtureStackFile(stack),
      "--port",
      "0",
      "--ephemeral",
      ...labArgs,
    ],
    {
      cwd: repoRoot,
      execArgv: ["-r", "ts-node/register/transpile-only"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    },
  );
  const pending = new Map<number, (reply: ControlReply) => void>();
  let nextId = 0;
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    // Give up before the caller's hook times out, so no lab is left running.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the lab was not ready within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the lab exited with code ${code} before it was ready`));
    });
    child.on("message", (message: ReadyMessage | ControlReply) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message);
      } else pending.get(message.id)?.(message);
    });
  });
  const ask = (request: DistributiveOmit<ControlRequest, "id">): Promise<ControlReply> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, (reply) => {
        pending.delete(id);
        if (reply.type === "error") reject(new Error(reply.message));
        else resolve(reply);
      });
      child.send({ ...request, id });
    });
  return {
    ...ready,
    async use(scenario) {
      const reply = await ask({ type: "use", scenario });
      if (reply.type !== "used") throw new Error(`unexpected reply ${reply.type}`);
      const { frontendUrl, pageUrl, apiUrl, apiUrls } = reply;
      return { frontendUrl, pageUrl, apiUrl, apiUrls };
    },
    async log(since) {
      const reply = await ask({ type: "log", since });
      if (reply.type !== "log") throw new Error(`unexpected reply ${reply.type}`);
      return { entries: reply.entries, last: reply.last };
    },
    stop: () => stopChild(child),
  };
}

/** Runs a printed command line as a person pasting it into a shell would, from the project folder. */
export function shell(
  line: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", line], { cwd: repoRoot });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Stops a forked lab as Ctrl-C would, and kills it if it has not exited in
 * time, so no lab outlives the test run.
 */
export function stopChild(child: ChildProcess, graceMs = 8_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function openSession(
  stack: string,
  options: { recordHar?: string; labArgs?: string[] } = {},
): Promise<Session> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium is missing at ${chromiumPath}. Install Debian's chromium package (.ci/run installs it: apt-get install chromium).`,
    );
  }
  const lab = await forkLab(stack, options.labArgs ?? []);
  const userDataDir = mkdtempSync(path.join(tmpdir(), "access-bridge-lab-"));
  prepareProfile(userDataDir);
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [...headlessFlags, ...labFlags(lab)],
      ...(options.recordHar ? { recordHar: { path: options.recordHar } } : {}),
    });
  } catch (err) {
    await lab.stop();
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const messages: string[] = [];
  page.on("console", (m) => messages.push(m.text()));
  return {
    lab,
    context,
    page,
    frontendUrl: lab.frontendUrl,
    pageUrl: lab.pageUrl,
    apiUrl: "",
    apiUrls: [],
    console: messages,
    async close() {
      await context.close();
      await lab.stop();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Logs in to an Access app the way a person does: open the app, get sent to
 * the team's login page, submit an email, land back on the app.
 */
export async function signIn(page: Page, appUrl: string, email: string): Promise<void> {
  await page.goto(appUrl);
  const host = new URL(appUrl).hostname;
  if (new URL(page.url()).hostname !== host) {
    await page.fill('input[name="email"]', email);
    await Promise.all([
      page.waitForURL((u) => u.hostname === host),
      page.click('button[type="submit"]'),
    ]);
  }
}

/** Switches the lab's scenario, starts from no cookies, and opens the page logged in to the front end. */
export async function freshPage(session: Session, scenario: string, email: string): Promise<void> {
  await session.context.clearCookies();
  const urls = await session.lab.use(scenario);
  session.frontendUrl = urls.frontendUrl;
  session.pageUrl = urls.pageUrl;
  session.apiUrl = urls.apiUrl;
  session.apiUrls = urls.apiUrls;
  await openPage(session, email);
}

/** Opens the lab page, logging in to the front end first if Access asks for it. */
export async function openPage(session: Session, email: string): Promise<void> {
  await signIn(session.page, session.pageUrl, email);
  await session.page.waitForSelector("body[data-ready=true]");
}

/** Logs in to an API app too (by default the first), then returns to the lab page. */
export async function signInToApi(
  session: Session,
  email: string,
  apiUrl = session.apiUrl,
): Promise<void> {
  await signIn(session.page, apiUrl, email);
  await openPage(session, email);
}

const CORS_BLOCKED = "has been blocked by CORS policy: ";

/** What the page showed for one run of a case. */
export interface CaseRun {
  result: CaseResult;
  trace: LogEntry[];
  /** The page's "Why: …" line for a refused request, "" otherwise. */
  why: string;
  /** The page's "Chromium's console: …" lines. */
  browserSays: string[];
  /** For a refused request, Chromium's own reason: its console message after "blocked by CORS policy: ". */
  consoleSays: string | null;
  /** The page's line on the identity the API verified, "" when it shows none. */
  identity: string;
  /** The Worker log lines the page shows beside the run: each one's reason and its JSON. */
  workerLogs: { reason: string; line: string }[];
}

/**
 * Clicks a case's button in an API's part of the page (by its host name; by
 * default the first API's) and returns what the browser reported, with the
 * trace of what the lab's parties did meanwhile.
 */
export async function runCase(
  session: Session,
  name: "worker" | "simple" | "preflighted" | "bridge" | "websocket",
  apiHost?: string,
): Promise<CaseRun> {
  const { page, lab } = session;
  const section =
    apiHost === undefined
      ? page.locator("section.api").first()
      : page.locator(`section.api[data-api="${apiHost}"]`);
  const { last: mark } = await lab.log(Number.MAX_SAFE_INTEGER);
  const consoleMark = session.console.length;
  await section.locator(`button[data-case="${name}"]`).click();
  const shown = section.locator(`output[data-case="${name}"]`);
  await section.locator(`output[data-case="${name}"][data-state="done"]`).waitFor();
  const result = JSON.parse((await shown.getAttribute("data-result")) ?? "null") as CaseResult;
  const trace = (await lab.log(mark)).entries;
  const why = (await shown.locator(".why").allTextContents()).join("\n");
  const browserSays = await shown.locator(".browser-says").allTextContents();
  const identity = (await shown.locator(".identity").allTextContents()).join("\n");
  const workerLogs = await shown.locator(".worker-log").evaluateAll((blocks) =>
    blocks.map((b) => ({
      reason: b.getAttribute("data-reason") ?? "",
      line: b.querySelector("code")?.textContent ?? "",
    })),
  );
  let consoleSays: string | null = null;
  // A refused WebSocket gets no CORS message: the browser only reports a close.
  if (result.outcome === "blocked" && name !== "websocket") {
    const said = (): string | undefined =>
      session.console.slice(consoleMark).find((m) => m.includes(CORS_BLOCKED));
    // The console event may trail the page's own report of the failure.
    if (said() === undefined) {
      await page.waitForEvent("console", { predicate: (m) => m.text().includes(CORS_BLOCKED) });
    }
    const message = said() ?? "";
    consoleSays = message.slice(message.indexOf(CORS_BLOCKED) + CORS_BLOCKED.length);
  }
  return { result, trace, why, browserSays, consoleSays, identity, workerLogs };
}

/** The page's explanation is Chromium's own reason, and names the rule that failed. */
export function expectExplained(run: CaseRun, why: string): void {
  expect(run.result.outcome).toBe("blocked");
  expect(run.why).toBe(`Why: ${why}`);
  expect(run.consoleSays).not.toBeNull();
  expect(run.browserSays).toEqual([`Chromium's console: ${run.consoleSays}`]);
}

export function entries(trace: LogEntry[], party: LogEntry["party"], method?: string): LogEntry[] {
  return trace.filter((e) => e.party === party && (method === undefined || e.method === method));
}

/**
 * The API's side of a Worker call, from the lab's own trace: Access admitted
 * the service token and the demo API saw it as the caller. The browser's copy
 * of the echo is no witness, since the Worker may mask the token in bodies.
 */
export function expectServiceTokenAtApi(trace: LogEntry[], clientId: string): void {
  expect(entries(trace, "api-edge", "GET")).toEqual([
    expect.objectContaining({ note: `service token ${clientId} passed the Service Auth policy` }),
  ]);
  expect(entries(trace, "demo-api", "GET")).toEqual([
    expect.objectContaining({
      status: 200,
      note: expect.stringMatching(new RegExp(`^echoed; caller: service token ${clientId}; `)),
    }),
  ]);
}
