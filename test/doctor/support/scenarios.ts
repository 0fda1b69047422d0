/**
 * Each failure mode the doctor must recognise, and the passing cases, as a
 * server behaviour plus the command line a user would run against it.
 */
import type { Behaviour, Reply } from "./servers";

export const ORIGIN = "https://app.example.com";
export const ACCESS_LOGIN =
  "https://team.cloudflareaccess.com/cdn-cgi/access/login/api.example.com?kid=8a1b2c&redirect_url=%2Fitems";

/** What Access puts on its own answers; the doctor keys on cf-access-* headers. */
const ACCESS_HEADERS = {
  server: "cloudflare",
  "cf-ray": "8e3f0a1b2c3d4e5f-AMS",
  "cf-access-domain": "api.example.com",
};

const preflightOk = (overrides: Record<string, string> = {}): Reply => ({
  status: 204,
  headers: {
    "access-control-allow-origin": ORIGIN,
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET, POST, PUT, DELETE",
    "access-control-allow-headers": "Content-Type, X-Api-Key",
    "access-control-max-age": "600",
    vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    ...overrides,
  },
});

const actualOk = (overrides: Record<string, string> = {}): Reply => ({
  status: 200,
  headers: {
    "content-type": "application/json",
    "access-control-allow-origin": ORIGIN,
    "access-control-allow-credentials": "true",
    vary: "Origin",
    ...overrides,
  },
});

const without = (reply: Reply, name: string): Reply => {
  const headers = { ...reply.headers };
  delete headers[name];
  return { ...reply, headers };
};

const accessLogin: Reply = { status: 302, headers: { ...ACCESS_HEADERS, location: ACCESS_LOGIN } };

export interface Scenario {
  name: string;
  behaviour: Behaviour;
  /** CLI arguments after --url/--origin. */
  args: string[];
  expect: {
    exit: 0 | 1;
    /** The step that decides the verdict, and its cause/fix for failures. */
    step: string;
    severity: "pass" | "fail" | "warn";
    cause?: RegExp;
    fix?: RegExp;
    fixKey?: string;
    /** Whether the actual request reached the server. */
    actualSent: boolean;
  };
}

/** A preflighted PUT with credentials and two page-set headers. */
const PUT_WITH_HEADERS = [
  "--method",
  "PUT",
  "--header",
  "Content-Type: application/json",
  "--header",
  "x-api-key",
  "--credentials",
];

export const SCENARIOS: Scenario[] = [
  {
    name: "preflighted PUT allowed (header names listed in another case)",
    behaviour: { options: preflightOk(), actual: actualOk() },
    args: PUT_WITH_HEADERS,
    expect: { exit: 0, step: "headers", severity: "pass", actualSent: true },
  },
  {
    name: "simple GET allowed by * without credentials",
    behaviour: {
      options: preflightOk(),
      actual: { status: 200, headers: { "access-control-allow-origin": "*" } },
    },
    args: [],
    expect: { exit: 0, step: "allow-origin", severity: "pass", actualSent: true },
  },
  {
    name: "* with credentials",
    behaviour: {
      options: preflightOk(),
      actual: actualOk({ "access-control-allow-origin": "*" }),
    },
    args: ["--credentials"],
    expect: {
      exit: 1,
      step: "allow-origin",
      severity: "fail",
      cause: /is `\*` but the request carries credentials/,
      fixKey: "corsAllowedOrigins",
      fix: /fix: +List the exact origin instead of `\*`: put https:\/\/app\.example\.com in `corsAllowedOrigins`/,
      actualSent: true,
    },
  },
  {
    name: "origin with a trailing slash",
    behaviour: {
      options: preflightOk({ "access-control-allow-origin": `${ORIGIN}/` }),
      actual: actualOk({ "access-control-allow-origin": `${ORIGIN}/` }),
    },
    args: PUT_WITH_HEADERS,
    expect: {
      exit: 1,
      step: "allow-origin",
      severity: "fail",
      cause: /differ by: trailing slash/,
      fixKey: "corsAllowedOrigins",
      fix: /fix: +Write the origin exactly as the browser sends it.*`https:\/\/app\.example\.com` in `corsAllowedOrigins`/,
      actualSent: false,
    },
  },
  {
    name: "origin not allowed (Access leaves out every CORS header)",
    behaviour: {
      options: {
        status: 200,
        headers: {
          ...ACCESS_HEADERS,
          vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        },
      },
      actual: accessLogin,
    },
    args: PUT_WITH_HEADERS,
    expect: {
      exit: 1,
      step: "allow-origin",
      severity: "fail",
      cause: /The preflight response has no Access-Control-Allow-Origin header/,
      fixKey: "corsAllowedOrigins",
      fix: /fix: +Allow https:\/\/app\.example\.com: add it to `corsAllowedOrigins`/,
      actualSent: false,
    },
  },
  {
    name: "header missing from Access-Control-Allow-Headers",
    behaviour: {
      options: preflightOk({ "access-control-allow-headers": "content-type" }),
      actual: actualOk(),
    },
    args: PUT_WITH_HEADERS,
    expect: {
      exit: 1,
      step: "headers",
      severity: "fail",
      cause: /does not list `x-api-key`/,
      fixKey: "corsAllowedHeaders",
      fix: /fix: +Add `x-api-key` to `corsAllowedHeaders`/,
      actualSent: false,
    },
  },
  {
    name: "method not allowed",
    behaviour: {
      options: preflightOk({ "access-control-allow-methods": "GET, POST" }),
      actual: actualOk(),
    },
    args: PUT_WITH_HEADERS,
    expect: {
      exit: 1,
      step: "methods",
      severity: "fail",
      cause: /asked for method PUT; Access-Control-Allow-Methods is `GET`, `POST`/,
      fixKey: "corsAllowedMethods",
      fix: /fix: +Add `PUT` \(in capitals\) to `corsAllowedMethods`/,
      actualSent: false,
    },
  },
  {
    name: "403 to the preflight from Access",
    behaviour: {
      options: { status: 403, headers: { ...ACCESS_HEADERS, "content-type": "text/html" } },
      actual: accessLogin,
    },
    args: PUT_WITH_HEADERS,
    expect: {
      exit: 1,
      step: "status",
      severity: "fail",
      cause: /Access blocked the OPTIONS preflight/,
      fixKey: "preflight",
      fix: /fix: +Set `preflight: cloudflare`.*`preflight: origin`.*Worker on https:\/\/app\.example\.com\/api\/\*/,
      actualSent: false,
    },
  },
  {
    name: "preflight redirected to the Access login",
    behaviour: { options: accessLogin, actual: accessLogin },
    args: PUT_WITH_HEADERS,
    expect: {
      exit: 1,
      step: "status",
      severity: "fail",
      cause: /redirect to its login page.*logging in does not help/,
      fixKey: "preflight",
      fix: /fix: +Set `preflight: cloudflare`.*`preflight: origin`.*Worker on https:\/\/app\.example\.com\/api\/\*/,
      actualSent: false,
    },
  },
  {
    name: "302 to the Access login (not logged in to the API)",
    behaviour: { options: preflightOk(), actual: accessLogin },
    args: ["--credentials"],
    expect: {
      exit: 1,
      step: "access-login",
      severity: "fail",
      cause: /you are not logged in to the API/,
      fixKey: "log-in-first",
      fix: /fix: +Guide option 1: log in to http:\/\/127\.0\.0\.1:\d+ in this browser first.*Guide option 2: .*Worker/,
      actualSent: true,
    },
  },
  {
    name: "credentials without Access-Control-Allow-Credentials",
    behaviour: {
      options: preflightOk(),
      actual: without(actualOk(), "access-control-allow-credentials"),
    },
    args: ["--credentials"],
    expect: {
      exit: 1,
      step: "credentials",
      severity: "fail",
      cause: /no Access-Control-Allow-Credentials/,
      fixKey: "corsAllowCredentials",
      fix: /fix: +Set `corsAllowCredentials: true`/,
      actualSent: true,
    },
  },
  {
    name: "missing Vary: Origin (allowed, with a warning)",
    behaviour: { options: preflightOk(), actual: without(actualOk(), "vary") },
    args: ["--credentials"],
    expect: {
      exit: 0,
      step: "vary",
      severity: "warn",
      cause: /without `Vary: Origin`/,
      fixKey: "api-cors",
      fix: /fix: +Add `Vary: Origin`/,
      actualSent: true,
    },
  },
  {
    name: "max-age above Chromium's cap (allowed, with a warning)",
    behaviour: {
      options: preflightOk({ "access-control-max-age": "86400" }),
      actual: actualOk(),
    },
    args: PUT_WITH_HEADERS,
    expect: {
      exit: 0,
      step: "max-age",
      severity: "warn",
      cause: /Chromium caches preflights for at most 7200 s/,
      fixKey: "corsMaxAge",
      fix: /fix: +Set `corsMaxAge` to 7200 or less/,
      actualSent: true,
    },
  },
];
