/**
 * A central responder's account names: config `accountNames` first, else the organisation's name
 * from organizations:DescribeAccount, asked once per account per container; a failed call leaves
 * the account unnamed for five minutes and never fails anything. A single-account stack never asks.
 */
import {
  AccessDeniedException,
  DescribeAccountCommand,
  OrganizationsClient,
  TooManyRequestsException,
} from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../functions/shared/config.js";

const organizations = mockClient(OrganizationsClient);

const ORGANIZATION = { id: "o-a1b2c3d4e5", regions: ["us-east-1"], organizationalUnitIds: ["r-abcd"] };
const MEMBER = "444455556666";

/** A fresh container: the names learnt live in the module. */
async function fresh() {
  vi.resetModules();
  return (await import("../../functions/shared/account-names.js")).accountNamesFor;
}

beforeEach(() => {
  organizations.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("accountNamesFor", () => {
  it("an organisation's config: asks DescribeAccount for the account once, then answers from memory", async () => {
    // Prepare
    organizations.on(DescribeAccountCommand).resolves({ Account: { Id: MEMBER, Name: "payments-prod" } });
    const accountNamesFor = await fresh();
    const config = parseConfig({ organization: ORGANIZATION, accountNames: { "111122223333": "security" } });

    // Act
    const first = await accountNamesFor(config, MEMBER);
    const second = await accountNamesFor(config, MEMBER);

    // Assess
    expect(first).toEqual({ "111122223333": "security", [MEMBER]: "payments-prod" });
    expect(second).toEqual(first);
    expect(organizations.commandCalls(DescribeAccountCommand)).toHaveLength(1);
    expect(organizations.commandCalls(DescribeAccountCommand)[0]?.args[0].input).toEqual({
      AccountId: MEMBER,
    });
  });

  it("config accountNames wins: no call for an account the config names", async () => {
    organizations
      .on(DescribeAccountCommand)
      .resolves({ Account: { Id: MEMBER, Name: "from-organizations" } });
    const accountNamesFor = await fresh();
    const config = parseConfig({ organization: ORGANIZATION, accountNames: { [MEMBER]: "payments" } });

    expect(await accountNamesFor(config, MEMBER)).toEqual({ [MEMBER]: "payments" });
    expect(organizations.calls()).toHaveLength(0);
  });

  it("a refused call leaves the account unnamed, does not throw, and is not repeated for five minutes", async () => {
    organizations
      .on(DescribeAccountCommand)
      .rejects(new AccessDeniedException({ message: "not a delegated administrator", $metadata: {} }));
    const accountNamesFor = await fresh();
    const config = parseConfig({ organization: ORGANIZATION });
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-08T03:00:00Z") });

    expect(await accountNamesFor(config, MEMBER)).toEqual({});
    vi.setSystemTime(new Date("2026-12-08T03:04:59Z"));
    expect(await accountNamesFor(config, MEMBER)).toEqual({});
    expect(organizations.commandCalls(DescribeAccountCommand)).toHaveLength(1);
  });

  it("a failed call is asked again five minutes later, and a name then learnt is kept", async () => {
    organizations
      .on(DescribeAccountCommand)
      .rejectsOnce(new TooManyRequestsException({ message: "throttled", $metadata: {} }))
      .resolves({ Account: { Id: MEMBER, Name: "payments-prod" } });
    const accountNamesFor = await fresh();
    const config = parseConfig({ organization: ORGANIZATION });
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-08T03:00:00Z") });

    expect(await accountNamesFor(config, MEMBER)).toEqual({});
    vi.setSystemTime(new Date("2026-12-08T03:05:00Z"));
    expect(await accountNamesFor(config, MEMBER)).toEqual({ [MEMBER]: "payments-prod" });
    vi.setSystemTime(new Date("2026-12-09T03:05:00Z"));
    expect(await accountNamesFor(config, MEMBER)).toEqual({ [MEMBER]: "payments-prod" });
    expect(organizations.commandCalls(DescribeAccountCommand)).toHaveLength(2);
  });

  it("a name that is not printable ASCII is made printable and cut to 50 characters", async () => {
    organizations
      .on(DescribeAccountCommand)
      .resolves({ Account: { Name: `paiements-\u00e9t\u00e9-${"x".repeat(60)}` } });
    const accountNamesFor = await fresh();

    const names = await accountNamesFor(parseConfig({ organization: ORGANIZATION }), MEMBER);

    expect(names[MEMBER]).toBe(`paiements-?t?-${"x".repeat(36)}`);
  });

  it("a single-account config, or no 12-digit account, never asks", async () => {
    const accountNamesFor = await fresh();

    expect(await accountNamesFor(parseConfig({}), MEMBER)).toEqual({});
    expect(await accountNamesFor(parseConfig({ organization: ORGANIZATION }), undefined)).toEqual({});
    expect(await accountNamesFor(parseConfig({ organization: ORGANIZATION }), "not-an-account")).toEqual({});
    expect(organizations.calls()).toHaveLength(0);
  });
});
