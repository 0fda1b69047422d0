/** The notification policy's rules: the expiry alert must reach someone. */
import type { Rule } from ".";
import { isObject, listOf, required, TFP } from "./helpers";

export const notificationRules: readonly Rule[] = [
  {
    id: "NP-1",
    kind: "notification",
    stage: "preview",
    source: `${TFP}/notification_policy/schema.go L33-118 (account_id, alert_type, name, mechanisms required)`,
    check: (i) =>
      required(i, {
        accountId: "account_id",
        alertType: "alert_type",
        name: "name",
        mechanisms: "mechanisms",
      }),
  },
  {
    id: "NP-2",
    kind: "notification",
    stage: "apply",
    source:
      "https://developers.cloudflare.com/api/resources/alerting/subresources/policies/methods/create/ (email mechanisms are identified by the address)",
    check: (i) => {
      const mechanisms = isObject(i.mechanisms) ? i.mechanisms : {};
      const targets = ["emails", "pagerduties", "webhooks"].flatMap((k) => listOf(mechanisms[k]));
      if (targets.length === 0) return ["mechanisms names nobody to notify"];
      return listOf(mechanisms.emails).flatMap((e, n) =>
        isObject(e) && typeof e.id === "string" && /^[^@\s]+@[^@\s]+$/.test(e.id)
          ? []
          : [`mechanisms.emails[${n}].id must be an email address`],
      );
    },
  },
];
