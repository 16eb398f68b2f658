/**
 * The shared pipeline: how a key is reached (`accessFor`), and the order every incident handler
 * runs in (`createHandler`), pinned with a tiny incident declaration: decide on the event alone
 * (no AWS call when it ignores), read the facts in one round, decide again with them, act on the
 * second decision, notify once, and fail the invocation after notifying when an action or the
 * notification failed.
 */
import {
  DescribeKeyCommand,
  DisableKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  NotFoundException,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { DescribeAccountCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { BatchImportFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Executor } from "../../functions/shared/actions/action.js";
import { revokeGrant } from "../../functions/shared/actions/revoke-grant.js";
import { type Config, parseConfig } from "../../functions/shared/config.js";
import type { Decision, Finding, KeyFacts, PlannedAction } from "../../functions/shared/decision.js";
import { type KmsEvent, normalise } from "../../functions/shared/event.js";
import type { Incident } from "../../functions/shared/incident.js";
import { accessFor, act, createHandler, type PipelineDeps } from "../../functions/shared/pipeline.js";
import { successfulCall } from "../../functions/shared/rule.js";
import { GRANT_KEY_ID, loadEvent } from "../helpers/fixtures.js";

const kmsMock = mockClient(KMSClient);
const snsMock = mockClient(SNSClient);
const stsMock = mockClient(STSClient);
const securityHubMock = mockClient(SecurityHubClient);
const organizationsMock = mockClient(OrganizationsClient);

const kms = new KMSClient({ region: "us-east-1" });
const sns = new SNSClient({ region: "us-east-1" });
const TOPIC = "arn:aws:sns:us-east-1:111122223333:kms-responder-notifications";
const HERE = { region: "us-east-1", account: "111122223333" };

const KEY_ID = GRANT_KEY_ID;
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const GRANT_ID = "17510749c7fcbec5a8474c1e465e979bfa0c4a2f4cc29db2b21fcdd442d1afd7";
const EVENT_ID = "7404c6cc-a32e-4c17-bddb-150a93c40481";
const MEMBER_KEY = "arn:aws:kms:eu-west-1:444455556666:key/0b0b0b0b-1111-4222-8333-444444444444";

/** The fixtures were recorded days ago: no age limit here (test/handlers/delivery.test.ts pins it). */
/** Enforce, as a deployment that acts sets it, and no age limit: the fixtures were recorded days ago. */
const NO_AGE_LIMIT = parseConfig({ mode: "enforce", maxEventAgeMinutes: 0, confirmAfterSeconds: 0 });

const ORG_CONFIG = parseConfig({
  maxEventAgeMinutes: 0,
  confirmAfterSeconds: 0,
  organization: {
    id: "o-abcdefghij",
    regions: ["us-east-1", "eu-west-1"],
    organizationalUnitIds: ["r-abcd"],
  },
});

function deps(config: Config = NO_AGE_LIMIT): PipelineDeps {
  return { kms, sns, config, topicArn: TOPIC, responder: HERE };
}

/** Lets every pending promise continuation run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A finding of the fake incident about the event's key. */
function finding(event: KmsEvent, actions: PlannedAction[], more: Partial<Finding> = {}): Finding {
  return {
    kind: "finding",
    incident: "fake-incident",
    severity: "high",
    reasons: ["fake-reason"],
    title: "Fake incident",
    summary: "a fake incident happened",
    details: [],
    actions,
    event,
    key: event.key,
    ...more,
  };
}

const revokeOf = (event: KmsEvent): PlannedAction => ({
  type: "revoke-grant",
  keyRef: event.key?.arn ?? "unknown",
  grantId: GRANT_ID,
});

/** A tiny incident declaration: its decide is given by the test, and every call to it is recorded. */
function fakeIncident(
  decide: (event: KmsEvent, facts: KeyFacts) => Decision,
  executors: Executor[] = [revokeGrant],
) {
  const decisions: Array<{ event: KmsEvent; facts: KeyFacts; config: Config }> = [];
  const incident: Incident = {
    name: "fake-incident",
    summary: "a fake incident for the pipeline tests",
    eventNames: ["CreateGrant"],
    matches: () => true,
    pattern: (own) => successfulCall(["CreateGrant"], own),
    decide: (event, config, facts) => {
      decisions.push({ event, facts, config });
      return decide(event, facts);
    },
    executors,
    plans: () => ["revoke-grant"],
    reads: () => ["key", "tags", "grant"],
    securityHubType: "Unusual Behaviors/Fake",
  };
  return { incident, decisions };
}

/** Decides like a grant responder: revoke the grant, unless the facts say it is gone. */
const judgeGrant = (event: KmsEvent, facts: KeyFacts): Decision =>
  facts.grant === null ? finding(event, [], { verdicts: ["grant-gone"] }) : finding(event, [revokeOf(event)]);

/** The current state of the fixtures' key and grant, as KMS reports it. */
function keyAndGrantExist() {
  kmsMock.on(DescribeKeyCommand).resolves({
    KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: "Enabled", KeyManager: "CUSTOMER" },
  });
  kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
  kmsMock.on(ListGrantsCommand, { GrantId: GRANT_ID }).resolves({
    Grants: [
      {
        GrantId: GRANT_ID,
        GranteePrincipal: "arn:aws:iam::444455556666:role/exfil",
        Operations: ["Decrypt"],
      },
    ],
  });
}

beforeEach(() => {
  kmsMock.reset();
  securityHubMock.reset();
  snsMock.reset();
  stsMock.reset();
  organizationsMock.reset();
  // The member credential cache lives in a module the pipeline imports on demand: start afresh.
  vi.resetModules();
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
});

describe("accessFor", () => {
  it("without an organization config: a key of its own Region through the given client, no STS", async () => {
    // Act
    const access = accessFor(deps(), "rogue-grant", EVENT_ID);
    const client = await access.kmsFor(KEY_ARN);

    // Assess
    expect(client).toBe(kms);
    expect(await access.credentialsFor(KEY_ARN)).toBeUndefined();
    expect(stsMock.calls()).toHaveLength(0);
  });

  it("without an organization config: a key of another account and Region gets the regional client, never the member role", async () => {
    // Act
    const access = accessFor(deps(), "rogue-grant", EVENT_ID);
    const client = await access.kmsFor(MEMBER_KEY);

    // Assess
    expect(client).not.toBe(kms);
    expect(await client.config.region()).toBe("eu-west-1");
    expect(await access.credentialsFor(MEMBER_KEY)).toBeUndefined();
    expect(stsMock.calls()).toHaveLength(0);
  });

  it("with an organization config: a key of another account goes through the member role, in the key's Region", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: "ASIAMEMBER",
        SecretAccessKey: "secret",
        SessionToken: "token",
        Expiration: new Date(Date.now() + 3_600_000),
      },
    });

    // Act
    const access = accessFor(deps(ORG_CONFIG), "rogue-grant", EVENT_ID);
    const client = await access.kmsFor(MEMBER_KEY);
    const credentials = await access.credentialsFor(MEMBER_KEY);

    // Assess
    expect(stsMock).toHaveReceivedCommandExactlyOnceWith(AssumeRoleCommand, {
      RoleArn: "arn:aws:iam::444455556666:role/kms-responder-member",
      RoleSessionName: `kmsr-rogue-grant-${EVENT_ID}`,
    });
    expect(await client.config.region()).toBe("eu-west-1");
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: "ASIAMEMBER" });
    expect(credentials).toMatchObject({
      accessKeyId: "ASIAMEMBER",
      secretAccessKey: "secret",
      sessionToken: "token",
    });
  });

  it("with an organization config: a key of its own account is reached without the member role", async () => {
    // Act
    const access = accessFor(deps(ORG_CONFIG), "rogue-grant", EVENT_ID);
    const client = await access.kmsFor(KEY_ARN);

    // Assess
    expect(client).toBe(kms);
    expect(await access.credentialsFor(KEY_ARN)).toBeUndefined();
    expect(stsMock.calls()).toHaveLength(0);
  });

  it("with an organization config: a member role that cannot be assumed fails the access with the role named", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).rejects(new Error("AccessDenied"));

    // Act / Assess
    await expect(accessFor(deps(ORG_CONFIG), "rogue-grant", EVENT_ID).kmsFor(MEMBER_KEY)).rejects.toThrow(
      "could not assume arn:aws:iam::444455556666:role/kms-responder-member",
    );
  });
});

describe("createHandler: the pipeline order", () => {
  it("an event the incident ignores on its own ends there: no read, no action, no notification", async () => {
    // Prepare
    const { incident, decisions } = fakeIncident(() => ({
      kind: "ignore",
      skipped: "trusted-grant",
      why: "trusted",
    }));

    // Act
    const result = await createHandler(incident, deps())(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(result).toEqual({
      eventId: EVENT_ID,
      incident: "fake-incident",
      outcome: "ignored",
      skipped: "trusted-grant",
      why: "trusted",
    });
    expect(decisions).toHaveLength(1);
    expect(decisions[0]?.facts).toEqual({});
    expect(kmsMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("input that is not a CloudTrail record is dropped as unparseable without deciding", async () => {
    // Prepare
    const { incident, decisions } = fakeIncident(judgeGrant);

    // Act
    const result = await createHandler(incident, deps())({ Records: [] });

    // Assess
    expect(result).toEqual({
      eventId: undefined,
      incident: "fake-incident",
      outcome: "ignored",
      skipped: "unparseable",
    });
    expect(decisions).toHaveLength(0);
    expect(kmsMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("decides, reads in one round, decides again with the facts, acts, then notifies once", async () => {
    // Prepare: record the order of every step
    const steps: string[] = [];
    let sentWhenFirstReadAnswered = 0;
    const meta = {
      KeyId: KEY_ID,
      Arn: KEY_ARN,
      KeyState: "Enabled" as const,
      KeyManager: "CUSTOMER" as const,
    };
    kmsMock.on(DescribeKeyCommand).callsFake(async () => {
      steps.push(steps.includes("act") ? "read after acting" : "read");
      await settle();
      sentWhenFirstReadAnswered = kmsMock.calls().length;
      return { KeyMetadata: meta };
    });
    kmsMock.on(ListResourceTagsCommand).callsFake(async () => {
      steps.push("read");
      return { Tags: [{ TagKey: "team", TagValue: "payments" }] };
    });
    kmsMock.on(ListGrantsCommand).callsFake(async () => {
      steps.push(steps.includes("act") ? "verify" : "read");
      return steps.includes("act")
        ? { Grants: [] }
        : { Grants: [{ GrantId: GRANT_ID, GranteePrincipal: "arn:aws:iam::444455556666:role/exfil" }] };
    });
    kmsMock.on(RevokeGrantCommand).callsFake(async () => {
      steps.push("act");
      return {};
    });
    kmsMock.on(ListAliasesCommand).callsFake(async () => {
      steps.push(steps.includes("act") ? "read after acting" : "read");
      return { Aliases: [{ AliasName: "alias/payments" }] };
    });
    snsMock.on(PublishCommand).callsFake(async () => {
      steps.push("notify");
      return { MessageId: "m-1" };
    });
    const { incident, decisions } = fakeIncident((event, facts) => {
      steps.push("decide");
      return judgeGrant(event, facts);
    });

    // Act
    const result = await createHandler(incident, deps())(loadEvent("rogue-grant/external-grantee"));

    // Assess
    // The notification's aliases are read in the same round; nothing is read after acting but the
    // verification.
    expect(steps).toEqual(["decide", "read", "read", "read", "read", "decide", "act", "verify", "notify"]);
    expect(sentWhenFirstReadAnswered).toBe(4);
    expect(decisions.map((d) => d.facts)).toEqual([
      {},
      {
        keyDescription: "",
        aliases: ["alias/payments"],
        keyState: "Enabled",
        keyManager: "CUSTOMER",
        tags: { team: "payments" },
        grant: {
          grantee: "arn:aws:iam::444455556666:role/exfil",
          retiringPrincipal: undefined,
          operations: [],
          constrained: false,
          name: undefined,
        },
        responder: HERE,
      },
    ]);
    expect(decisions[1]?.event.eventId).toBe(EVENT_ID);
    expect(decisions[1]?.config).toBe(NO_AGE_LIMIT);
    expect(kmsMock).toHaveReceivedCommandWith(ListGrantsCommand, { KeyId: KEY_ARN, GrantId: GRANT_ID });
    expect(kmsMock).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: KEY_ARN,
      GrantId: GRANT_ID,
    });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPIC, MessageStructure: "json" });
    expect(result).toMatchObject({
      eventId: EVENT_ID,
      incident: "fake-incident",
      outcome: "remediated",
      severity: "high",
      reasons: ["fake-reason"],
      actions: [{ type: "revoke-grant", status: "succeeded", verified: true }],
      notificationId: "m-1",
    });
  });

  it("acts on the second decision: a grant already gone is not revoked, and the verdict is notified", async () => {
    // Prepare
    kmsMock
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: "Enabled" } });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(ListGrantsCommand).rejects(new NotFoundException({ message: "no such grant", $metadata: {} }));
    const { incident, decisions } = fakeIncident(judgeGrant);

    // Act
    const result = await createHandler(incident, deps())(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(decisions[1]?.facts.grant).toBeNull();
    expect(kmsMock).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(result).toMatchObject({ outcome: "notified", verdicts: ["grant-gone"], actions: [] });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const message = JSON.parse(String(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message)) as {
      sqs: string;
    };
    expect(JSON.parse(message.sqs)).toMatchObject({ outcome: "notified", verdicts: ["grant-gone"] });
  });

  it("a key of another account (single-account stack) is not read: decide gets the responder and no facts", async () => {
    // Prepare
    const event = loadEvent("rogue-grant/external-grantee");
    event.detail.resources = [{ type: "AWS::KMS::Key", ARN: MEMBER_KEY }];
    const { incident, decisions } = fakeIncident((e) => finding(e, []));

    // Act
    await createHandler(incident, deps())(event);

    // Assess
    expect(kmsMock.calls()).toHaveLength(0);
    expect(decisions[1]?.facts).toEqual({ responder: HERE });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it("a failed action is notified first, then fails the invocation", async () => {
    // Prepare
    keyAndGrantExist();
    kmsMock.on(RevokeGrantCommand).rejects(new Error("AccessDeniedException: not authorized"));
    const { incident } = fakeIncident(judgeGrant);

    // Act
    const invocation = createHandler(incident, deps())(loadEvent("rogue-grant/external-grantee"));

    // Assess
    await expect(invocation).rejects.toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("revoke-grant: RevokeGrant failed: Error: AccessDeniedException"),
    });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      MessageAttributes: expect.objectContaining({ outcome: { DataType: "String", StringValue: "failed" } }),
    });
  });

  it("a failed notification fails the invocation, and the action it reported stands (no undo)", async () => {
    // Prepare
    keyAndGrantExist();
    kmsMock.on(RevokeGrantCommand).resolves({});
    snsMock.on(PublishCommand).rejects(new Error("KMS.DisabledException: the topic's key is disabled"));
    const { incident } = fakeIncident(judgeGrant);

    // Act
    const invocation = createHandler(incident, deps())(loadEvent("rogue-grant/external-grantee"));

    // Assess
    await expect(invocation).rejects.toMatchObject({
      name: "ActionError",
      message: expect.stringContaining("notification failed"),
    });
    expect(kmsMock).toHaveReceivedCommandTimes(RevokeGrantCommand, 1);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it("an action planned without an executor in the incident's table fails after notifying", async () => {
    // Prepare
    keyAndGrantExist();
    const { incident } = fakeIncident((event) => finding(event, [{ type: "disable-key", keyRef: KEY_ARN }]));

    // Act
    const invocation = createHandler(incident, deps())(loadEvent("rogue-grant/external-grantee"));

    // Assess
    await expect(invocation).rejects.toThrow("no executor for disable-key");
    expect(kmsMock).toHaveReceivedCommandTimes(DisableKeyCommand, 0);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it("an alias-only record whose DescribeKey fails is notified with what is known, then fails the invocation", async () => {
    // Prepare: the record names its key by alias only
    const event = loadEvent("rogue-grant/alias-key-id");
    event.detail.responseElements = { grantId: GRANT_ID };
    kmsMock.on(DescribeKeyCommand).rejects(new Error("ThrottlingException: Rate exceeded"));
    const { incident, decisions } = fakeIncident((e) =>
      finding(e, [
        {
          type: "revoke-grant",
          keyRef: "alias/payments",
          grantId: GRANT_ID,
          hold: { status: "skipped", code: "unknown-key", why: "the key could not be determined" },
        },
      ]),
    );

    // Act
    const invocation = createHandler(incident, deps())(event);

    // Assess
    await expect(invocation).rejects.toMatchObject({
      name: "ActionError",
      message: expect.stringContaining(
        "the key could not be resolved: Error: ThrottlingException: Rate exceeded",
      ),
    });
    expect(kmsMock).toHaveReceivedCommandExactlyOnceWith(DescribeKeyCommand, { KeyId: "alias/payments" });
    expect(kmsMock).toHaveReceivedCommandTimes(RevokeGrantCommand, 0);
    expect(decisions[1]?.facts.readErrors).toEqual({ key: "Error: ThrottlingException: Rate exceeded" });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const message = JSON.parse(String(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message)) as {
      default: string;
    };
    expect(message.default).toContain(
      "The key could not be resolved: Error: ThrottlingException: Rate exceeded",
    );
    expect(message.default).toContain("alias/payments");
  });

  it("an alias-only record whose DescribeKey fails keeps the incident's Security Hub type on its finding", async () => {
    // Prepare: the record names its key by alias only, and Security Hub is on
    const event = loadEvent("rogue-grant/alias-key-id");
    event.detail.responseElements = { grantId: GRANT_ID };
    kmsMock.on(DescribeKeyCommand).rejects(new Error("ThrottlingException: Rate exceeded"));
    securityHubMock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    const { incident } = fakeIncident((e) => finding(e, []));

    // Act
    const invocation = createHandler(incident, deps(parseConfig({ securityHub: true })))(event);

    // Assess
    await expect(invocation).rejects.toThrow("the key could not be resolved");
    const imported = securityHubMock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input;
    expect(imported?.Findings?.map((f) => f.Types)).toEqual([["Unusual Behaviors/Fake"]]);
  });

  it("an alias-only record whose DescribeKey answers is decided again on the resolved key", async () => {
    // Prepare
    const event = loadEvent("rogue-grant/alias-key-id");
    event.detail.responseElements = { grantId: GRANT_ID };
    keyAndGrantExist();
    kmsMock.on(RevokeGrantCommand).resolves({});
    const { incident, decisions } = fakeIncident((e, facts) =>
      e.key ? judgeGrant(e, facts) : finding(e, [], { details: ["key unknown yet"] }),
    );

    // Act
    const result = await createHandler(incident, deps())(event);

    // Assess
    expect(decisions[0]?.event.key).toBeUndefined();
    expect(decisions[1]?.event.key).toMatchObject({ arn: KEY_ARN, alias: "alias/payments" });
    expect(kmsMock).toHaveReceivedCommandExactlyOnceWith(RevokeGrantCommand, {
      KeyId: KEY_ARN,
      GrantId: GRANT_ID,
    });
    expect(result.outcome).toBe("remediated");
  });
});

describe("createHandler: a central responder's account name", () => {
  it("is asked beside the round of reads, not after acting", async () => {
    // Prepare
    const steps: string[] = [];
    // The grant read answers only once the account's name was asked for: were it asked after
    // acting, the handler would never get there (and the test would time out).
    let asked: () => void = () => undefined;
    const nameAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    organizationsMock.on(DescribeAccountCommand).callsFake(async () => {
      steps.push("DescribeAccount");
      asked();
      return { Account: { Name: "core" } };
    });
    kmsMock.on(DescribeKeyCommand).resolves({
      KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: "Enabled", KeyManager: "CUSTOMER" },
    });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListGrantsCommand).callsFake(async () => {
      await nameAsked;
      return { Grants: [{ GrantId: GRANT_ID, GranteePrincipal: "arn:aws:iam::444455556666:role/exfil" }] };
    });
    kmsMock.on(RevokeGrantCommand).callsFake(async () => {
      steps.push("RevokeGrant");
      return {};
    });
    const { incident } = fakeIncident((event, facts) => judgeGrant(event, facts));

    // Act
    await createHandler(incident, deps(ORG_CONFIG))(loadEvent("rogue-grant/external-grantee"));

    // Assess
    expect(steps).toEqual(["DescribeAccount", "RevokeGrant"]);
  });
});

describe("act: the account's name in a central responder's notification", () => {
  /**
   * A finding about a member account's key, with nothing to do. The names learnt live as long as
   * the module (the container): each test names an account of its own.
   */
  const memberFinding = (account = "444455556666"): Finding => {
    const event = normalise(loadEvent("rogue-grant/external-grantee"));
    if (!event) throw new Error("the external-grantee fixture does not normalise");
    const key = {
      arn: MEMBER_KEY.replace("444455556666", account),
      id: "0b0b0b0b-1111-4222-8333-444444444444",
      region: "eu-west-1",
      account,
      partition: "aws",
    };
    return finding(event, [], { key });
  };
  const subject = () => snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject ?? "";
  const message = () => JSON.parse(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? "{}");

  it("names the key's account with its name in the organisation (DescribeAccount)", async () => {
    // Prepare
    organizationsMock
      .on(DescribeAccountCommand, { AccountId: "444455556666" })
      .resolves({ Account: { Id: "444455556666", Name: "payments-prod" } });

    // Act
    await act(memberFinding(), [], deps(ORG_CONFIG));

    // Assess
    expect(subject()).toContain("in 444455556666 (payments-prod)/eu-west-1");
    expect(message().default).toContain("444455556666 (payments-prod)");
  });

  it("a DescribeAccount that fails leaves the account unnamed and the notification goes out", async () => {
    // Prepare
    organizationsMock.on(DescribeAccountCommand).rejects(new Error("AccessDeniedException"));

    // Act
    const { failure } = await act(memberFinding("777788889999"), [], deps(ORG_CONFIG));

    // Assess
    expect(failure).toBeUndefined();
    expect(subject()).toContain("in 777788889999/eu-west-1");
    expect(organizationsMock.commandCalls(DescribeAccountCommand)).toHaveLength(1);
  });

  it("config accountNames wins, and a single-account stack never asks Organizations", async () => {
    // Act
    await act(memberFinding(), [], deps({ ...ORG_CONFIG, accountNames: { "444455556666": "payments" } }));
    await act(memberFinding(), [], deps(parseConfig({ accountNames: {} })));

    // Assess
    expect(subject()).toContain("in 444455556666 (payments)/eu-west-1");
    expect(organizationsMock.calls()).toHaveLength(0);
  });
});
