import { isAccessRefusal, isAccessUrl } from "../../worker/src/access-refusal";

const team = "myteam.cloudflareaccess.com";
const api = "api.mysite.com";
const refused = (status: number, location: string | null) =>
  isAccessRefusal(status, location, team, api);

describe("a refused service token, as the API's Access answers it", () => {
  it.each([
    [302, `https://${team}/cdn-cgi/access/login/${api}?kid=abc&redirect_url=%2Fv1%2Fx`],
    [302, `https://othertenant.cloudflareaccess.com/cdn-cgi/access/login/${api}`],
    [303, `https://MyTeam.CloudflareAccess.com/cdn-cgi/access/login/${api}`],
    [307, `https://${api}/cdn-cgi/access/login?redirect_url=%2F`],
    [302, "/cdn-cgi/access/login"],
    [302, `https://${team}/`],
    [301, `https://${team}/login`],
  ])("is a %i to Access's login: %s", (status, location) => {
    expect(refused(status, location)).toBe(true);
  });

  it.each([
    [302, `https://${api}/v1/next`, "the API's own redirect"],
    [302, "https://evil.example/cdn-cgi/access/login", "Access's path on another host"],
    [302, "https://cloudflareaccess.com.evil.example/cdn-cgi/access/login", "a look-alike host"],
    [200, `https://${team}/cdn-cgi/access/login/${api}`, "a 200 that names the login"],
    [201, `https://${team}/`, "a 201 on the team domain (its Location is dropped instead)"],
    [401, `https://${team}/cdn-cgi/access/login/${api}`, "a 401"],
    [302, null, "a redirect without Location"],
    [302, "http://[bad", "a Location that is no URL"],
  ] as [number, string | null, string][])("is not %i to %s (%s)", (status, location) => {
    expect(refused(status, location)).toBe(false);
  });
});

describe("a URL into Access, which no answer hands the browser", () => {
  it.each([`https://${team}/`, `https://${team}/anything`, `https://${api}/cdn-cgi/access/logout`])(
    "is %s",
    (url) => expect(isAccessUrl(url, team, api)).toBe(true),
  );
  it.each([`https://${api}/v1/next`, "/v1/next", `https://evil.example/`, "http://[bad"])(
    "is not %s",
    (url) => expect(isAccessUrl(url, team, api)).toBe(false),
  );
});
