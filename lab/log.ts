/** What each emulated party did with each request, for the page's trace panel and for the tests. */
/** `frontend` and `api` are the user's own servers, given with `--frontend` and `--api`. */
export type Party =
  "frontend-edge" | "api-edge" | "worker" | "demo-api" | "frontend" | "api" | "idp" | "lab";

/** What a party answered the browser with, so the page can say which CORS rule failed. */
export interface Answer {
  /** Response headers, names lower-cased. */
  headers: Record<string, string>;
}

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
}

export type LogExtra = Pick<LogEntry, "answer" | "login">;

export class LabLog {
  private readonly entries: LogEntry[] = [];
  private seq = 0;

  add(
    party: Party,
    method: string,
    url: string,
    status: number,
    note = "",
    extra: LogExtra = {},
  ): void {
    this.entries.push({ seq: ++this.seq, party, method, url, status, note, ...extra });
    if (this.entries.length > 500) this.entries.shift();
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
