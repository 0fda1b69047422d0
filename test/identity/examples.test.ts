/**
 * The Python and Go verifiers of docs/identity.md, taken from the doc as it
 * is and run against statements the Worker's signer made and the key set the
 * stack publishes: each decides the same table as the package does. A
 * language missing from the machine is reported as not run, with what to
 * install; .ci/run installs both.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { repoRoot } from "../support/stacks";
import {
  decisions,
  expectedDecisions,
  statementCases,
  type CaseInput,
  type CaseOutcome,
  type StatementCase,
} from "./statements";

const doc = readFileSync(path.join(repoRoot, "docs", "identity.md"), "utf8");

/** The one code block of `language` in the doc, as a reader copies it. */
function codeBlock(language: string): string {
  const blocks = [...doc.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```$", "gm"))];
  if (blocks.length !== 1) {
    throw new Error(`docs/identity.md has ${blocks.length} ${language} blocks; the test runs one`);
  }
  return blocks[0]![1]!;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv },
) {
  const result = spawnSync(command, args, { ...options, encoding: "utf8", timeout: 240_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status}):\n${result.stderr}${result.error ?? ""}`,
    );
  }
  return result.stdout;
}

/** The first Python 3 with PyJWT and cryptography: Debian's packages go to /usr/bin's. */
const python = ["python3", "/usr/bin/python3"].find(
  (candidate) =>
    spawnSync(candidate, ["-c", "import jwt, cryptography"], { stdio: "ignore" }).status === 0,
);

/** Where Debian's golang-github-golang-jwt-jwt-dev puts the library, for an offline build. */
const golangJwt = "/usr/share/gocode/src/github.com/golang-jwt/jwt";
const go =
  spawnSync("go", ["version"], { stdio: "ignore" }).status === 0 &&
  existsSync(path.join(golangJwt, "go.mod"))
    ? "go"
    : undefined;

/** Runs the doc's module on each case: the identity, or the refusal's message. */
const pythonDriver = `import json, sys
from access_bridge_identity import IdentityError, verify_identity
given = json.load(sys.stdin)
outcomes = []
for case in given["cases"]:
    # A WSGI server passes a repeated header on joined by a comma.
    statement = ", ".join([case["statement"]] * 2) if case.get("twice") else case["statement"]
    try:
        who = verify_identity(statement, given["jwks"], given["apiOrigin"], given["issuers"])
        outcomes.append({"name": case["name"], "identity": who})
    except IdentityError as err:
        outcomes.append({"name": case["name"], "refused": str(err)})
json.dump(outcomes, sys.stdout)
`;

const goDriver = `package main

import (
	"encoding/json"
	"net/http"
	"os"

	"accessbridge.test/verify/identity"
)

func main() {
	var given struct {
		Jwks      string
		APIOrigin string \`json:"apiOrigin"\`
		Issuers   []string
		Cases     []struct {
			Name, Statement string
			Twice           bool
		}
	}
	if err := json.NewDecoder(os.Stdin).Decode(&given); err != nil {
		panic(err)
	}
	outcomes := []map[string]interface{}{}
	for _, c := range given.Cases {
		h := http.Header{}
		h.Set(identity.Header, c.Statement)
		if c.Twice {
			h.Add(identity.Header, c.Statement)
		}
		who, err := identity.Verify(h, []byte(given.Jwks), given.APIOrigin, given.Issuers...)
		if err != nil {
			outcomes = append(outcomes, map[string]interface{}{"name": c.Name, "refused": err.Error()})
		} else {
			outcomes = append(outcomes, map[string]interface{}{"name": c.Name, "identity": who})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(outcomes); err != nil {
		panic(err)
	}
}
`;

let scratch: string;
let input: CaseInput;
let cases: StatementCase[];

beforeAll(async () => {
  ({ input, cases } = await statementCases());
  scratch = mkdtempSync(path.join(tmpdir(), "access-bridge-identity-examples-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("docs/identity.md", () => {
  it("shows one Python and one Go verifier, for the tests below to run", () => {
    expect(codeBlock("python")).toMatch(/^def verify_identity\(/m);
    expect(codeBlock("go")).toMatch(/^func Verify\(/m);
  });
});

describe("the Python verifier in docs/identity.md (PyJWT)", () => {
  (python ? it : it.skip)(
    python
      ? "decides every statement as the package does"
      : "decides every statement as the package does: not run, no python3 with PyJWT and cryptography (apt-get install python3-jwt python3-cryptography)",
    () => {
      const dir = path.join(scratch, "python");
      mkdirSync(dir);
      writeFileSync(path.join(dir, "access_bridge_identity.py"), codeBlock("python"));
      writeFileSync(path.join(dir, "driver.py"), pythonDriver);
      const outcomes: CaseOutcome[] = JSON.parse(
        run(python!, ["driver.py"], { cwd: dir, input: JSON.stringify(input) }),
      );
      expect(decisions(outcomes)).toEqual(expectedDecisions(cases));
      expect(outcomes.find((o) => o.name === "for another API")?.refused).toMatch(
        /does not verify/,
      );
    },
  );
});

describe("the Go verifier in docs/identity.md (golang-jwt)", () => {
  (go ? it : it.skip)(
    go
      ? "is gofmt-clean, builds offline, and decides every statement as the package does"
      : `decides every statement as the package does: not run, no go or no ${golangJwt} (apt-get install golang-go golang-github-golang-jwt-jwt-dev)`,
    () => {
      const dir = path.join(scratch, "go");
      mkdirSync(path.join(dir, "identity"), { recursive: true });
      writeFileSync(path.join(dir, "identity", "identity.go"), codeBlock("go"));
      writeFileSync(path.join(dir, "main.go"), goDriver);
      // The module a reader gets with `go get`, taken from Debian's copy: no network.
      writeFileSync(
        path.join(dir, "go.mod"),
        `module accessbridge.test/verify

go 1.19

require github.com/golang-jwt/jwt/v4 v4.4.3

replace github.com/golang-jwt/jwt/v4 => ${golangJwt}
`,
      );
      const env = { ...process.env, GOFLAGS: "-mod=mod", GOPROXY: "off", GOTOOLCHAIN: "local" };
      expect(run("gofmt", ["-l", "identity"], { cwd: dir, env })).toBe("");
      const outcomes: CaseOutcome[] = JSON.parse(
        run("go", ["run", "."], { cwd: dir, env, input: JSON.stringify(input) }),
      );
      expect(decisions(outcomes)).toEqual(expectedDecisions(cases));
      expect(outcomes.find((o) => o.name === "for another API")?.refused).toMatch(/another API/);
    },
    240_000,
  );
});
