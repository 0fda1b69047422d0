/**
 * What a browser's `fetch` to the front end's `/api/*` carries by the time
 * Cloudflare hands it to the Worker: the browser's own headers, the front
 * end's cookies (the Access cookie among them) and the edge's `cf-*` and
 * forwarding headers. The default run sends only `Host` and the assertion,
 * as the issue's benchmark asks; `--browser-headers` adds these, because a
 * Worker's cost per header only shows when there are real headers.
 */
export function browserHeaders(assertion: string, frontendOrigin: string): Record<string, string> {
  return {
    accept: "application/json, text/plain, */*",
    "accept-encoding": "gzip, deflate, br, zstd",
    "accept-language": "en-GB,en;q=0.9",
    cookie: `CF_Authorization=${assertion}; theme=dark; _ga=GA1.1.123456789.1700000000`,
    origin: frontendOrigin,
    referer: `${frontendOrigin}/dashboard`,
    "sec-ch-ua": '"Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Linux"',
    "sec-fetch-dest": "empty",
    "sec-fetch-mode": "cors",
    "sec-fetch-site": "same-origin",
    "user-agent":
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "cf-connecting-ip": "203.0.113.7",
    "cf-ipcountry": "GB",
    "cf-ray": "8f00aa11bb22cc33-LHR",
    "cf-visitor": '{"scheme":"https"}',
    "x-forwarded-proto": "https",
    "x-real-ip": "203.0.113.7",
  };
}
