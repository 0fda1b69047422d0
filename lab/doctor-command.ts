/**
 * The doctor commands `npm start` prints, one per API: the page's third case
 * (a credentialed, preflighted POST) checked against the running lab, as a
 * logged-in person. The API's name stays in the URL; --resolve sends it to
 * the lab's port and --cacert trusts the lab's certificate, so the command
 * works as printed. A route prefix other than the doctor's default is
 * passed on, so that its fixes name that API's Worker route.
 */
import * as path from "node:path";
import { routePrefixArgs, shellQuote } from "../doctor/command";
import { defaultRoutePrefix } from "../doctor/diagnose";

export interface LabTarget {
  port: number;
  apiHost: string;
  frontendHost: string;
  routePrefix: string;
  /** The custom header the page's preflighted request sends, if the stack allows one. */
  probeHeader: string | null;
  /** The lab's certificate (PEM). */
  certFile: string;
  /** A file holding a person's token for this API's app. */
  tokenFile: string;
}

/** A path as short as it can be from `cwd` (npm runs scripts from the package root). */
export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative)
    ? relative
    : file;
}

export function labDoctorCommand(t: LabTarget, cwd = process.cwd()): string {
  return [
    // Silent: npm would otherwise echo the arguments, the token among them.
    "npm run -s doctor --",
    `--url https://${t.apiHost}:${t.port}${t.routePrefix}/echo`,
    `--origin https://${t.frontendHost}`,
    "--method POST",
    `--header ${shellQuote("Content-Type: application/json")}`,
    ...(t.probeHeader !== null ? [`--header ${shellQuote(t.probeHeader)}`] : []),
    "--credentials",
    `--access-token "$(cat ${shellQuote(displayPath(t.tokenFile, cwd))})"`,
    `--resolve ${t.apiHost}:${t.port}:127.0.0.1`,
    `--cacert ${shellQuote(displayPath(t.certFile, cwd))}`,
    ...routePrefixArgs(t.routePrefix !== defaultRoutePrefix ? t.routePrefix : undefined),
  ].join(" ");
}
