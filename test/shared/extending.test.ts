/**
 * The shape new incidents and actions build on: a hypothetical incident
 * (test/fixtures/incidents/rotation-period-shortened/) declares its own event field, fact reader
 * and config option in its folder, is listed the way the registry lists one (one entry), and the
 * shared code checks its config and runs it without a change.
 */

import { readdirSync, readFileSync } from "node:fs";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { INCIDENTS } from "../../functions/registry.js";
import { ACTION_TYPES, ACTIONS } from "../../functions/shared/actions/index.js";
import { type Config, type ConfigInput, parseConfig } from "../../functions/shared/config.js";
import { ConfigError } from "../../functions/shared/errors.js";
import { normalise } from "../../functions/shared/event.js";
import { rolePermissions } from "../../functions/shared/permissions.js";
import { createHandler } from "../../functions/shared/pipeline.js";
import {
  INCIDENT,
  rotationPeriodShortened,
} from "../fixtures/incidents/rotation-period-shortened/incident.js";
import { GRANT_KEY_ARN, loadEvent } from "../helpers/fixtures.js";

const kmsMock = mockClient(KMSClient);
const snsMock = mockClient(SNSClient);
const TOPIC = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";

/** An EnableKeyRotation record setting this period, on the grant fixtures' key. */
function enableRotation(periodInDays: number) {
  const event = loadEvent("key-rotation-disabled/disable-rotation");
  event.detail.eventName = "EnableKeyRotation";
  event.detail.requestParameters = { keyId: GRANT_KEY_ARN, rotationPeriodInDays: periodInDays };
  return event;
}

/** The registry with the hypothetical incident added as an incident is added: one entry in the list. */
const REGISTERED = [...INCIDENTS, rotationPeriodShortened] as const;

/** Its name is one of the registry's names by the type system, from its declaration alone. */
const named: (typeof REGISTERED)[number]["name"] = INCIDENT;

/** The config as the CLI and the stack check it, with the hypothetical incident registered. */
const checked = (input: ConfigInput): Config => parseConfig(input, "config", REGISTERED);

/** The defaults, with the hypothetical incident's settings. */
function configWith(settings: Record<string, unknown>): Config {
  return checked({ incidents: { [named]: settings } });
}

/** The message of the ConfigError `run` throws. */
function configErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

beforeEach(() => {
  kmsMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
});

describe("an incident declares what it needs in its own folder", () => {
  it("its own detail parser fills its event field; other incidents' events keep the shared parse", () => {
    const parsers = rotationPeriodShortened.details;

    expect(normalise(enableRotation(90), parsers)?.detail).toEqual({
      kind: "rotation-period",
      periodInDays: 90,
    });
    expect(normalise(loadEvent("rogue-grant/external-grantee"), parsers)?.detail.kind).toBe("grant");
    expect(normalise(enableRotation(90))?.detail).toEqual({ kind: "rotation", rotationPeriodInDays: 90 });
  });

  it("a detail parser that throws on an odd record leaves the event without detail, never crashes", () => {
    const throwing = [{ eventNames: ["EnableKeyRotation"], parse: () => JSON.parse("{") }];

    expect(normalise(enableRotation(90), throwing)?.detail).toEqual({ kind: "none" });
  });

  it("its config options are checked under incidents.<name> once it is listed, with their defaults", () => {
    expect(checked({}).incidents[INCIDENT]).toEqual({ mode: "enforce", minimumDays: 365 });
    expect(configWith({ minimumDays: 180 }).incidents[INCIDENT]).toEqual({
      mode: "enforce",
      minimumDays: 180,
    });
    expect(configErrorOf(() => configWith({ minimumDays: 30 }))).toBe(
      "invalid config: incidents.rotation-period-shortened.minimumDays: expected >=90, received number",
    );
    expect(configErrorOf(() => configWith({ minDays: 180 }))).toBe(
      'invalid config: unknown field "incidents.rotation-period-shortened.minDays"',
    );
    expect(checked({ scan: { enforce: [INCIDENT] } }).scan.enforce).toEqual([INCIDENT]);
  });

  it("is unknown to the config check until it is listed", () => {
    const registryOnly = (input: ConfigInput) => () => parseConfig(input, "config", INCIDENTS);

    expect(configErrorOf(registryOnly({ incidents: { [INCIDENT]: {} } }))).toBe(
      'invalid config: unknown field "incidents.rotation-period-shortened"',
    );
    expect(configErrorOf(registryOnly({ scan: { enforce: [INCIDENT] } }))).toMatch(
      /^invalid config: scan\.enforce\.0: Invalid option: expected one of "alias-changed"\|/,
    );
  });

  it("its handler checks its own options when it is created, from a config checked without the registry", () => {
    const deps = { kms: new KMSClient({}), sns: new SNSClient({}), topicArn: TOPIC };
    // What a Lambda reads: KMS_RESPONDER_CONFIG, checked without the incidents' declarations.
    const lambdaConfig = (input: ConfigInput) => parseConfig(input, "KMS_RESPONDER_CONFIG");

    const wrong = lambdaConfig({ incidents: { [INCIDENT]: { minimumDays: 30, minDays: 1 } } });
    expect(configErrorOf(() => createHandler(rotationPeriodShortened, { ...deps, config: wrong }))).toBe(
      'invalid config: unknown field "incidents.rotation-period-shortened.minDays"; ' +
        "incidents.rotation-period-shortened.minimumDays: expected >=90, received number",
    );
    // Another incident's options are that incident's to check (the stack checked all at synth).
    const others = lambdaConfig({ incidents: { "key-disabled": { colour: "red" } } });
    expect(() => createHandler(rotationPeriodShortened, { ...deps, config: others })).not.toThrow();
  });

  it("the pipeline reads its own fact with its own reader and decides with its option", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({
      KeyMetadata: { KeyId: "k", KeyState: "Enabled", KeyManager: "CUSTOMER", KeySpec: "SYMMETRIC_DEFAULT" },
    });
    const deps = { kms: new KMSClient({}), sns: new SNSClient({}), topicArn: TOPIC };

    // Act: the defaults (minimumDays 365), and the option set to 180.
    const short = await createHandler(rotationPeriodShortened, { ...deps, config: checked({}) })(
      enableRotation(180),
    );
    const allowed = await createHandler(rotationPeriodShortened, {
      ...deps,
      config: configWith({ minimumDays: 180 }),
    })(enableRotation(180));

    // Assess
    expect(short).toMatchObject({
      incident: INCIDENT,
      outcome: "notified",
      reasons: ["rotation-period-short"],
    });
    expect(allowed).toMatchObject({ outcome: "ignored", skipped: "no-incident" });
    const message = String(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message);
    expect(message).toContain("The key is a SYMMETRIC_DEFAULT key.");
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it("its role gets its own reader's permissions", () => {
    const role = rolePermissions(rotationPeriodShortened, checked({}));

    expect(role.kms).toEqual(expect.arrayContaining(["kms:DescribeKey"]));
    expect(role.kms.filter((a) => !a.startsWith("kms:Describe") && a !== "kms:ListAliases")).toEqual([]);
  });
});

describe("an action is one module, listed once", () => {
  it("has a module for every action type (each module adds its own), each naming its own type", () => {
    const dir = "functions/shared/actions";
    const declared = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => {
        const block =
          /interface ActionTypes \{([^}]*)\}/.exec(readFileSync(`${dir}/${f}`, "utf8"))?.[1] ?? "";
        return [...block.matchAll(/"([\w-]+)": true/g)].flatMap((m) => (m[1] ? [m[1]] : []));
      });

    expect(declared.length).toBeGreaterThan(10);
    expect([...ACTION_TYPES].sort()).toEqual(declared.sort());
    for (const [type, module] of Object.entries(ACTIONS)) expect(module.type).toBe(type);
  });

  it("declares permissions for what it runs, and a phrase for the notification subject", () => {
    for (const module of Object.values(ACTIONS)) {
      expect(module.done.length, module.type).toBeGreaterThan(0);
      if (module.run) expect(module.permissions.length, module.type).toBeGreaterThan(0);
    }
  });
});
