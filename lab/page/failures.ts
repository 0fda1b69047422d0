/**
 * What breaks in production, on the page: the controls that break it on
 * purpose (the person's session ends; the APIs' Access stops admitting the
 * Workers' service tokens), and two cases of a front end that copes with
 * them: bridgeFetch, the real `access-bridge/client` bundled into the page,
 * recovering from the ended session, and a WebSocket through the route.
 */
import { bridgeFetch, SessionExpiredError } from "../../client";
import type { CaseResult } from "./case-result";
import { $, explain, nonce, resultOf, show, trace, type PageRequest } from "./show";

/** What the person broke, as the lab reports it in its state. */
export interface Faults {
  tokenRevoked: boolean;
}

/** What the two cases need of an API: where its route is. */
interface RouteApi {
  routePrefix: string;
}

async function control(action: "end-session" | "revoke-token" | "restore-token"): Promise<void> {
  await fetch(`/__lab/control/${action}`, { method: "POST", cache: "no-store" });
}

/** A top-level load of this page: Access sends the person through its login and back here. */
function logInAgainButton(): HTMLButtonElement {
  const button = document.createElement("button");
  button.className = "log-in-again";
  button.textContent = "Log in again";
  button.addEventListener("click", () => location.assign(location.href));
  return button;
}

/** The header's controls: end my session, revoke (and restore) the service token. */
export function faultControls(faults: Faults): void {
  const status = $("faults");
  const revoke = $<HTMLButtonElement>("revoke-token");
  let ended = false;
  let revoked = faults.tokenRevoked;
  const render = (): void => {
    document.body.dataset["sessionEnded"] = String(ended);
    document.body.dataset["tokenRevoked"] = String(revoked);
    revoke.textContent = revoked ? "Restore the service token" : "Revoke the service token";
    const lines = [
      ...(ended
        ? [
            "Your Access session on this front end has ended: Access answers the routes with a 302 to its login (a plain fetch follows it and fails with a CORS error), or with a 401 to a request carrying X-Requested-With: XMLHttpRequest (bridgeFetch).",
          ]
        : []),
      ...(revoked
        ? [
            "The service token is revoked: each API's Access sends its Worker to the login, and the Worker answers 502 service_token_refused. Restore it, or reload the page.",
          ]
        : []),
    ];
    status.replaceChildren(lines.join(" "));
    if (ended) status.append(" ", logInAgainButton());
    status.hidden = lines.length === 0;
  };
  $("end-session").addEventListener("click", () => {
    void control("end-session").then(() => {
      ended = true;
      render();
    });
  });
  revoke.addEventListener("click", () => {
    void control(revoked ? "restore-token" : "revoke-token").then(() => {
      revoked = !revoked;
      render();
    });
  });
  render();
}

/** Case 4: the Worker path through bridgeFetch, which tells Access's "session ended" from any other answer. */
async function runBridge(url: string): Promise<CaseResult> {
  let told = false;
  try {
    const response = await bridgeFetch(url, {
      cache: "no-store",
      onSessionExpired: () => {
        told = true;
        return false;
      },
    });
    return await resultOf(response);
  } catch (err) {
    if (told && err instanceof SessionExpiredError)
      return { outcome: "session-expired", status: 401, error: err.message, body: null };
    return { outcome: "blocked", status: null, error: String(err), body: null };
  }
}

/** Case 5: a socket through the route, one message each way; the browser reports a refusal as a close. */
function runSocket(url: string): Promise<CaseResult> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const done = (result: CaseResult): void => {
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      socket.close();
      done({ outcome: "blocked", status: null, error: "no answer within 5 s", body: null });
    }, 5000);
    socket.addEventListener("open", () => socket.send("hello from the lab page"));
    socket.addEventListener("message", (event) => {
      socket.close(1000);
      done({ outcome: "ok", status: 101, error: null, body: String(event.data) });
    });
    socket.addEventListener("close", (event) => {
      const error = `the WebSocket closed before any message (code ${event.code})`;
      done({ outcome: "blocked", status: null, error, body: null });
    });
  });
}

/** Wires the two cases into one API's part of the page. */
export function failureCases(section: HTMLElement, api: RouteApi): void {
  const part = <T extends HTMLElement>(selector: string): T => section.querySelector(selector) as T;
  const path = `${api.routePrefix}/echo`;
  const live = `${api.routePrefix}/live`;
  part(`code[data-case="bridge"]`).textContent = `bridgeFetch("${path}")`;
  part(`code[data-case="websocket"]`).textContent =
    `new WebSocket("wss://${location.host}${live}")`;
  const cases: Record<"bridge" | "websocket", () => Promise<[CaseResult, PageRequest]>> = {
    bridge: async () => {
      const url = `${path}?${nonce()}`;
      const sent = { url, init: { credentials: "same-origin" as const }, label: "" };
      return [await runBridge(url), sent];
    },
    websocket: async () => {
      const query = nonce();
      const result = await runSocket(`wss://${location.host}${live}?${query}`);
      return [result, { url: `${live}?${query}`, init: {}, label: "" }];
    },
  };
  for (const [name, runCase] of Object.entries(cases)) {
    const output = part<HTMLOutputElement>(`output[data-case="${name}"]`);
    part<HTMLButtonElement>(`button[data-case="${name}"]`).addEventListener("click", () => {
      output.dataset["state"] = "running";
      void (async () => {
        const before = (await trace(0)).at(-1)?.seq ?? 0;
        const [result, sent] = await runCase();
        const explained = result.outcome !== "ok" ? await explain(sent) : [];
        // A WebSocket is not subject to CORS: Chromium's console names no CORS rule for it.
        const reasons = explained.map((r) => (name === "websocket" ? { ...r, browser: "" } : r));
        show(output, result, await trace(before), reasons.length > 0 ? reasons : null);
        if (result.outcome === "session-expired") output.append(logInAgainButton());
      })();
    });
  }
}
