/** What each emulated party did with each request, for the page's trace panel and for the tests. */
/** `frontend` and `api` are the user's own servers, given with `--frontend` and `--api`. */
export type Party =
  "frontend-edge" | "api-edge" | "worker" | "demo-api" | "frontend" | "api" | "idp" | "lab";

/** What a party answered the browser with, so the page can say which CORS rule failed. */
export interface Answer {
  /** Response headers, names lower-cased. */
  headers: Record<string, string>;
}

/** The line a Worker logs for a request, as Workers Logs would index it: `reason`, `status`, `requestId`, … */
export type WorkerLogLine = Record<string, unknown> & { reason: string; requestId: string };

export interface LogEntry {
  seq: number;
  party: Party;
  method: string;
  url: string;
  status: number;
  note: string;
  answer?: Answer;
  /** For a request an Access edge turned away: whether it carried a login at all. */
  login?: "none" | "not accepted";
  /** For a call the Worker answered: the line it logged for it. */
  workerLog?: WorkerLogLine;
}

export type LogExtra = Pick<LogEntry, "answer" | "login">;

/** Lines held for a call the lab has not logged yet; past this the oldest goes. */
const HELD_LINES = 50;

export class LabLog {
  private readonly entries: LogEntry[] = [];
  private seq = 0;
  /** A Worker's lines by the URL it was called on, until the lab logs that call. */
  private readonly workerLines = new Map<string, WorkerLogLine>();

  /** `echo` gets each Worker log line as the Worker wrote it: the lab's terminal prints them. */
  constructor(private readonly echo?: (text: string) => void) {}

  add(
    party: Party,
    method: string,
    url: string,
    status: number,
    note = "",
    extra: LogExtra = {},
  ): void {
    const workerLog = party === "worker" ? this.workerLines.get(url) : undefined;
    if (workerLog !== undefined) this.workerLines.delete(url);
    this.entries.push({
      seq: ++this.seq,
      party,
      method,
      url,
      status,
      note,
      ...extra,
      ...(workerLog !== undefined ? { workerLog } : {}),
    });
    if (this.entries.length > 500) this.entries.shift();
  }

  /**
   * The line a Worker logged for its call on `url`: printed now, and shown
   * with the call once the lab logs it (the Worker's answer comes first).
   */
  workerLine(url: string, line: WorkerLogLine, text: string): void {
    this.echo?.(text);
    this.workerLines.delete(url);
    this.workerLines.set(url, line);
    if (this.workerLines.size > HELD_LINES) {
      this.workerLines.delete(this.workerLines.keys().next().value!);
    }
  }

  /** Entries after `seq`, oldest first. */
  since(seq: number): LogEntry[] {
    return this.entries.filter((e) => e.seq > seq);
  }

  /** Entries for one URL (the page makes each run's URL unique), oldest first. */
  forUrl(url: string): LogEntry[] {
    return this.entries.filter((e) => e.url === url);
  }

  get last(): number {
    return this.seq;
  }
}
