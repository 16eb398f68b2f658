/**
 * The OCSF records: triage's `--format ocsf` Detection Findings (class 2004) and the notification's
 * `ocsf` Remediation Activities (class 7001), checked against the required attributes of the OCSF
 * 1.x schema (ocsf-schema, v1.1.0 to v1.3.0 and later: `events/base_event.json`,
 * `events/findings/finding.json`, `events/remediation/remediation_activity.json`,
 * `objects/finding_info.json`, `objects/metadata.json`, `objects/product.json`).
 */
import { describe, expect, it } from "vitest";
import { type CliIo, main } from "../../cli/main.js";
import { decide as decideGrant } from "../../functions/rogue-grant/decide.js";
import { type ActionResult, base } from "../../functions/shared/actions/action.js";
import { parseConfig } from "../../functions/shared/config.js";
import { normalise } from "../../functions/shared/event.js";
import { formatNotification } from "../../functions/shared/notify.js";
import { loadEvent } from "../helpers/fixtures.js";

type Json = Record<string, unknown>;

/** Required in every event class (base_event). */
const BASE_REQUIRED = [
  "activity_id",
  "category_uid",
  "class_uid",
  "metadata",
  "severity_id",
  "time",
  "type_uid",
];
/** Required by the class: a finding has finding_info; a remediation activity names its command. */
const CLASS_REQUIRED: Record<number, string[]> = { 2004: ["finding_info"], 7001: ["command_uid"] };
const OBJECT_REQUIRED: Record<string, string[]> = {
  metadata: ["product", "version"],
  "metadata.product": ["vendor_name"],
  finding_info: ["uid", "title"],
};
const CATEGORY: Record<number, number> = { 2004: 2, 7001: 7 };
const ACTIVITIES: Record<number, number[]> = { 2004: [1, 2, 3, 99], 7001: [1, 2, 3, 4, 99] };

function at(record: Json, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), record);
}

/** The required attributes missing from the record: the base ones, its class's, its objects'. */
function requiredProblems(record: Json, classUid: number): string[] {
  const problems: string[] = [];
  for (const name of [...BASE_REQUIRED, ...(CLASS_REQUIRED[classUid] ?? [])])
    if (record[name] === undefined || record[name] === null || record[name] === "")
      problems.push(`missing ${name}`);
  for (const [object, names] of Object.entries(OBJECT_REQUIRED)) {
    const value = at(record, object);
    if (value === undefined) continue;
    for (const name of names)
      if (at(record, `${object}.${name}`) === undefined) problems.push(`missing ${object}.${name}`);
  }
  return problems;
}

/** Integer attributes that are not, and enums and derived ids out of their values. */
function enumProblems(record: Json, classUid: number): string[] {
  const problems: string[] = [];
  for (const name of ["activity_id", "category_uid", "class_uid", "severity_id", "type_uid", "time"])
    if (!Number.isInteger(record[name])) problems.push(`${name} is not an integer`);
  if (record.category_uid !== CATEGORY[classUid]) problems.push("category_uid does not match the class");
  if (!ACTIVITIES[classUid]?.includes(record.activity_id as number))
    problems.push("activity_id outside its enum");
  if (record.type_uid !== classUid * 100 + (record.activity_id as number))
    problems.push("type_uid != class_uid * 100 + activity_id");
  if (![0, 1, 2, 3, 4, 5, 6, 99].includes(record.severity_id as number))
    problems.push("severity_id outside its enum");
  if (
    typeof at(record, "metadata.version") !== "string" ||
    !/^1\.\d+\.\d+/.test(String(at(record, "metadata.version")))
  )
    problems.push("metadata.version is not a 1.x version");
  return problems;
}

/** The problems of a record against the schema's required attributes and its enums; [] when valid. */
function ocsfProblems(record: Json): string[] {
  const classUid = record.class_uid;
  if (typeof classUid !== "number" || !(classUid in CLASS_REQUIRED)) return [`class_uid ${String(classUid)}`];
  return [...requiredProblems(record, classUid), ...enumProblems(record, classUid)];
}

describe("the check can fail", () => {
  it("names what a record lacks", () => {
    expect(
      ocsfProblems({
        class_uid: 2004,
        category_uid: 2,
        activity_id: 1,
        type_uid: 200401,
        severity_id: 3,
        time: 1,
      }),
    ).toEqual(["missing metadata", "missing finding_info", "metadata.version is not a 1.x version"]);
    expect(ocsfProblems({ class_uid: 2004, category_uid: 7 })[0]).toBe("missing activity_id");
  });
});

describe("triage --format ocsf", () => {
  it("writes one valid Detection Finding per finding, and nothing else on stdout", async () => {
    // Prepare
    const out: string[] = [];
    const io: CliIo = { out: (l) => out.push(l), err: () => {}, isTty: false };

    // Act
    const code = await main(
      ["triage", "--format", "ocsf", "--config", "test/fixtures/enforce.config.json", "events"],
      io,
    );
    const json: string[] = [];
    await main(["triage", "--json", "--config", "test/fixtures/enforce.config.json", "events"], {
      ...io,
      out: (l) => json.push(l),
    });

    // Assess
    expect(code).toBe(0);
    const findings = json.map((l) => JSON.parse(l) as Json).filter((r) => typeof r.severity === "string");
    const records = out.map((l) => JSON.parse(l) as Json);
    expect(records).toHaveLength(findings.length);
    for (const record of records) {
      expect(ocsfProblems(record), JSON.stringify(record)).toEqual([]);
      expect(record.class_uid).toBe(2004);
    }
    const grant = records.find(
      (r) => at(r, "finding_info.uid") === "kms-responder/rogue-grant/7404c6cc-a32e-4c17-bddb-150a93c40481",
    );
    expect(grant).toMatchObject({
      severity_id: 5,
      cloud: { provider: "AWS", region: "us-east-1", account: { uid: "111122223333" } },
      resources: [
        {
          uid: "arn:aws:kms:us-east-1:111122223333:key/7f3c9a12-4b8e-4d21-9c6a-2e5b8f1d0a34",
          type: "AWS::KMS::Key",
        },
      ],
      api: { operation: "CreateGrant" },
      remediation: { desc: "revoke-grant" },
    });
  });
});

describe("the notification's ocsf field", () => {
  it("carries each automatic action as a valid Remediation Activity", () => {
    // Prepare
    const event = normalise(loadEvent("rogue-grant/external-grantee"));
    if (!event) throw new Error("fixture did not normalise");
    const finding = decideGrant(event, parseConfig({ mode: "enforce" }), {});
    if (finding.kind !== "finding") throw new Error("expected a finding");
    const [action] = finding.actions;
    if (!action) throw new Error("expected a planned revocation");
    const revoked: ActionResult = { ...base(action), status: "succeeded", detail: "revoked" };

    // Act
    const note = formatNotification({
      finding,
      results: [revoked],
      accountNames: { "111122223333": "payments-prod" },
    });

    // Assess
    const ocsf = note.document.ocsf ?? [];
    expect(ocsf).toHaveLength(1);
    const [record] = ocsf;
    expect(ocsfProblems(record ?? {})).toEqual([]);
    expect(record).toMatchObject({
      class_uid: 7001,
      activity_id: 2,
      activity_name: "Evict",
      status_id: 1,
      command_uid: `revoke-grant:${revoked.target}`,
      cloud: { account: { uid: "111122223333", name: "payments-prod" }, region: "us-east-1" },
    });
    expect(JSON.parse(note.message).default).toBe(note.text);
  });

  it("is absent when nothing was done", () => {
    const event = normalise(loadEvent("rogue-grant/external-grantee"));
    if (!event) throw new Error("fixture did not normalise");
    const finding = decideGrant(event, parseConfig({}), {});
    if (finding.kind !== "finding") throw new Error("expected a finding");
    expect(formatNotification({ finding, results: [] }).document.ocsf).toBeUndefined();
  });
});
