import { accessHostOf } from "../../worker/src/access-refusal";

const team = "myteam.cloudflareaccess.com";
const api = "api.mysite.com";
const hostOf = (location: string) => accessHostOf(location, team, api);

describe("a URL into Access, which is a refused token in a redirect and dropped from any other answer", () => {
  it.each([
    [`https://${team}/cdn-cgi/access/login/${api}?kid=abc&redirect_url=%2Fv1%2Fx`, team],
    [
      `https://othertenant.cloudflareaccess.com/cdn-cgi/access/login/${api}`,
      "othertenant.cloudflareaccess.com",
    ],
    [`https://MyTeam.CloudflareAccess.com/cdn-cgi/access/login/${api}`, team],
    [`https://${team}./cdn-cgi/access/login/${api}`, team],
    [`https://${api}/cdn-cgi/access/login?redirect_url=%2F`, api],
    ["/cdn-cgi/access/login", api],
    [`https://${team}/`, team],
    [`https://${team}/login`, team],
    [`https://${team}/anything`, team],
    [`https://${api}/cdn-cgi/access/logout`, api],
  ])("is %s, on %s", (location, host) => {
    expect(hostOf(location)).toBe(host);
  });

  it.each([
    [`https://${api}/v1/next`, "the API's own URL"],
    ["/v1/next", "the API's own path"],
    ["https://evil.example/cdn-cgi/access/login", "Access's path on another host"],
    ["https://cloudflareaccess.com.evil.example/cdn-cgi/access/login", "a look-alike host"],
    ["https://evil.example/", "another host"],
    ["http://[bad", "text that is no URL"],
  ])("is not %s (%s)", (location) => {
    expect(hostOf(location)).toBeUndefined();
  });
});
