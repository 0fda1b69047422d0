/** The workers.dev subdomain's rules. */
import type { Rule } from ".";
import { required, TFP } from "./helpers";

export const subdomainRules: readonly Rule[] = [
  {
    id: "SUB-1",
    kind: "subdomain",
    stage: "preview",
    source: `${TFP}/workers_script_subdomain/schema.go L33-51`,
    check: (i) =>
      required(i, { accountId: "account_id", scriptName: "script_name", enabled: "enabled" }),
  },
];
