/** alias-changed: UpdateAlias / DeleteAlias -> notify (medium). */
import type { Incident } from "../shared/incident.js";
import { successfulCall } from "../shared/rule.js";
import { decide, INCIDENT } from "./decide.js";

export const aliasChanged = {
  name: INCIDENT,
  securityHubType: "Unusual Behaviors/User/KMS Alias Changed",
  summary: "UpdateAlias or DeleteAlias: notify (applications using the alias now use another key, or fail)",
  eventNames: ["UpdateAlias", "DeleteAlias"],
  matches: () => true,
  pattern: (own) => successfulCall(["UpdateAlias", "DeleteAlias"], own),
  decide,
  executors: [],
  plans: () => [],
  reads: () => [],
} as const satisfies Incident<typeof INCIDENT>;
