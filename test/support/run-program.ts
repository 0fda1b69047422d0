/**
 * Runs a Pulumi program under echoing mocks in a process of its own, as the
 * engine runs one: an error a program throws once a value resolves (in an
 * apply) ends the process with that error. Prints each resource as it is
 * registered, so a test can tell what would have been created before it.
 *
 *   node -r ts-node/register/transpile-only run-program.ts <program>
 */
import * as pulumi from "@pulumi/pulumi";

void pulumi.runtime.setMocks(
  {
    newResource(args) {
      process.stdout.write(`registered ${args.type} ${args.name}\n`);
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call(args) {
      throw new Error(`unmocked call to ${args.token}`);
    },
  },
  "shop",
  "staging",
  false,
);

void import(process.argv[2]!);
