/**
 * The recorder, pointed at the tests' own stack files. The files under
 * stacks/ belong to the user, so no test reads them.
 */
import * as path from "node:path";
import {
  declareStack as declareAny,
  stackConfig as stackConfigAny,
  stackFileOf,
  type DeclareOptions,
  type DeclaredStack,
} from "../../checker/recorder";

export * from "../../checker/recorder";

export const fixtureStacksDir = path.join(__dirname, "..", "fixtures", "stacks");

/** The path of a fixture stack's file, for commands that take `--config-file`. */
export function fixtureStackFile(stack: string): string {
  return stackFileOf(stack, fixtureStacksDir);
}

/** `declareStack` on a fixture stack (`dev` or `prod`) unless told otherwise. */
export function declareStack(stack: string, options: DeclareOptions = {}): Promise<DeclaredStack> {
  return declareAny(stack, { stacksDir: fixtureStacksDir, ...options });
}

/** The merged config of a fixture stack. */
export function stackConfig(
  stack: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return stackConfigAny(stack, overrides, stackFileOf(stack, fixtureStacksDir));
}
