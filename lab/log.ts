/** What each emulated party did with each request, for the page's trace panel and for the tests. */
export type Party = "frontend-edge" | "api-edge" | "worker" | "demo-api" | "idp" | "lab";

export interface LogEntry {
  seq: number;
  party: Party;
  method: string;
  url: string;
  status: number;
  note: string;
}

export class LabLog {
  private readonly entries: LogEntry[] = [];
  private seq = 0;

  add(party: Party, method: string, url: string, status: number, note = ""): void {
    this.entries.push({ seq: ++this.seq, party, method, url, status, note });
    if (this.entries.length > 500) this.entries.shift();
  }

  /** Entries after `seq`, oldest first. */
  since(seq: number): LogEntry[] {
    return this.entries.filter((e) => e.seq > seq);
  }

  get last(): number {
    return this.seq;
  }
}
