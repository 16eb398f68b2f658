import { describe, expect, it } from "vitest";
import { type EventPattern, type Json, matchesPattern, wildcardMatch } from "../../emulator/event-pattern.js";
import { kmsApiCall, notByResponder, successfulCall } from "../../functions/shared/rule.js";

const ROLE = "arn:aws:iam::111122223333:role/kms-responder-RogueGrantRole-EXAMPLE";

const assumedRoleCall = (issuerArn: string) => ({
  detail: {
    userIdentity: {
      type: "AssumedRole",
      sessionContext: { sessionIssuer: { type: "Role", arn: issuerArn } },
    },
  },
});
const iamUserCall = {
  detail: { userIdentity: { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/alice" } },
};

describe("matchesPattern: values", () => {
  it("matches exact values, any of the listed ones", () => {
    expect(matchesPattern({ source: ["aws.kms", "aws.s3"] }, { source: "aws.kms" })).toBe(true);
    expect(matchesPattern({ source: ["aws.kms"] }, { source: "aws.kms.extra" })).toBe(false);
    expect(matchesPattern({ n: [5] }, { n: 5 })).toBe(true);
    expect(matchesPattern({ n: ["5"] }, { n: 5 })).toBe(false);
    expect(matchesPattern({ v: [null] }, { v: null })).toBe(true);
    expect(matchesPattern({ v: [true] }, { v: true })).toBe(true);
  });

  it("ANDs fields and nests objects", () => {
    const pattern = { source: ["aws.kms"], detail: { eventName: ["CreateGrant"] } };
    expect(matchesPattern(pattern, { source: "aws.kms", detail: { eventName: "CreateGrant" } })).toBe(true);
    expect(matchesPattern(pattern, { source: "aws.kms", detail: { eventName: "RevokeGrant" } })).toBe(false);
    expect(matchesPattern(pattern, { source: "aws.kms" })).toBe(false);
  });

  it("matches prefix on strings only", () => {
    expect(matchesPattern({ region: [{ prefix: "eu-" }] }, { region: "eu-west-1" })).toBe(true);
    expect(matchesPattern({ region: [{ prefix: "eu-" }] }, { region: "us-east-1" })).toBe(false);
    expect(matchesPattern({ region: [{ prefix: "1" }] }, { region: 12 })).toBe(false);
  });

  it("matches anything-but with a single value or a list", () => {
    expect(matchesPattern({ s: [{ "anything-but": "a" }] }, { s: "b" })).toBe(true);
    expect(matchesPattern({ s: [{ "anything-but": "a" }] }, { s: "a" })).toBe(false);
    expect(matchesPattern({ s: [{ "anything-but": ["a", "b"] }] }, { s: "b" })).toBe(false);
    expect(matchesPattern({ s: [{ "anything-but": ["a", "b"] }] }, { s: "c" })).toBe(true);
    expect(matchesPattern({ n: [{ "anything-but": [1, 2] }] }, { n: 3 })).toBe(true);
  });

  it("matches anything-but with a suffix or a prefix: strings that do not end (start) with it", () => {
    const notService = { g: [{ "anything-but": { suffix: ".amazonaws.com" } }] };
    expect(matchesPattern(notService, { g: "dynamodb.us-east-1.amazonaws.com" })).toBe(false);
    expect(matchesPattern(notService, { g: "arn:aws:iam::444455556666:role/exfil" })).toBe(true);
    // A service-linked role names the service in its path, not at the end: still matched.
    expect(
      matchesPattern(notService, {
        g: "arn:aws:iam::1:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
      }),
    ).toBe(true);
    // Like every anything-but: an absent field does not match, and neither does a number.
    expect(matchesPattern(notService, {})).toBe(false);
    expect(matchesPattern(notService, { g: 5 })).toBe(false);
    const notArn = { g: [{ "anything-but": { prefix: "arn:" } }] };
    expect(matchesPattern(notArn, { g: "AROAEXAMPLE" })).toBe(true);
    expect(matchesPattern(notArn, { g: "arn:aws:iam::1:root" })).toBe(false);
  });

  it("matches exists true/false on leaf values", () => {
    expect(matchesPattern({ e: [{ exists: true }] }, { e: "x" })).toBe(true);
    expect(matchesPattern({ e: [{ exists: true }] }, {})).toBe(false);
    expect(matchesPattern({ e: [{ exists: false }] }, {})).toBe(true);
    expect(matchesPattern({ e: [{ exists: false }] }, { e: "x" })).toBe(false);
    // exists works on leaves: an object-valued field has no leaf of that name (event-ruler).
    expect(matchesPattern({ e: [{ exists: false }] }, { e: { nested: 1 } })).toBe(true);
    // null is a value: the field exists.
    expect(matchesPattern({ e: [{ exists: true }] }, { e: null })).toBe(true);
  });

  it("matches wildcard with * and escapes", () => {
    const pattern = { m: [{ wildcard: "*is pending deletion." }] };
    expect(
      matchesPattern(pattern, { m: "arn:aws:kms:us-east-1:111122223333:key/abc is pending deletion." }),
    ).toBe(true);
    expect(matchesPattern(pattern, { m: "arn:aws:kms:us-east-1:111122223333:key/abc is disabled." })).toBe(
      false,
    );
    expect(matchesPattern(pattern, { m: "is pending deletion. Really" })).toBe(false);
    expect(wildcardMatch("a*b*c", "aXXbYc")).toBe(true);
    expect(wildcardMatch("a*b*c", "aXXbY")).toBe(false);
    expect(wildcardMatch("a\\*b", "a*b")).toBe(true);
    expect(wildcardMatch("a\\*b", "aXb")).toBe(false);
    expect(wildcardMatch("a\\\\b", "a\\b")).toBe(true);
    expect(() => wildcardMatch("a\\b", "ab")).toThrow(/invalid escape/);
  });
});

describe("matchesPattern: arrays in the event", () => {
  it("matches when any element of an array of values matches", () => {
    expect(matchesPattern({ ops: ["Decrypt"] }, { ops: ["Encrypt", "Decrypt"] })).toBe(true);
    expect(matchesPattern({ ops: ["Sign"] }, { ops: ["Encrypt", "Decrypt"] })).toBe(false);
  });

  it("matches arrays of objects element-wise (each element against the whole sub-pattern)", () => {
    const event = {
      resources: [
        { type: "AWS::KMS::Key", ARN: "arn:aws:kms:us-east-1:111122223333:key/k1" },
        { type: "AWS::KMS::Alias", ARN: "arn:aws:kms:us-east-1:111122223333:alias/a" },
      ],
    };
    expect(matchesPattern({ resources: { type: ["AWS::KMS::Key"] } }, event)).toBe(true);
    expect(
      matchesPattern(
        {
          resources: {
            type: ["AWS::KMS::Key"],
            ARN: [{ prefix: "arn:aws:kms:us-east-1:111122223333:key/" }],
          },
        },
        event,
      ),
    ).toBe(true);
    // The type of one element and the ARN of another do not make a match.
    expect(
      matchesPattern(
        {
          resources: {
            type: ["AWS::KMS::Key"],
            ARN: [{ prefix: "arn:aws:kms:us-east-1:111122223333:alias/" }],
          },
        },
        event,
      ),
    ).toBe(false);
  });

  it("treats an empty array as an absent field", () => {
    expect(matchesPattern({ resources: [{ exists: false }] }, { resources: [] })).toBe(true);
    expect(matchesPattern({ resources: [{ exists: true }] }, { resources: [] })).toBe(false);
  });
});

describe("matchesPattern: absent fields", () => {
  const anythingBut = {
    detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ "anything-but": [ROLE] }] } } } },
  };

  it("anything-but does not match an event in which the field is absent (an IAM user has no sessionIssuer)", () => {
    expect(matchesPattern(anythingBut, iamUserCall)).toBe(false);
    expect(matchesPattern(anythingBut, assumedRoleCall("arn:aws:iam::111122223333:role/Admin"))).toBe(true);
    expect(matchesPattern(anythingBut, assumedRoleCall(ROLE))).toBe(false);
  });

  it("the $or with exists:false matches IAM users and root but still not the responder's role", () => {
    const issuer = (matcher: Json) => ({ sessionContext: { sessionIssuer: { arn: [matcher] } } });
    const loopPrevention: EventPattern = {
      detail: { userIdentity: { $or: [issuer({ "anything-but": [ROLE] }), issuer({ exists: false })] } },
    };
    expect(matchesPattern(loopPrevention, iamUserCall)).toBe(true);
    expect(matchesPattern(loopPrevention, { detail: { userIdentity: { type: "Root" } } })).toBe(true);
    expect(matchesPattern(loopPrevention, assumedRoleCall("arn:aws:iam::111122223333:role/Admin"))).toBe(
      true,
    );
    expect(matchesPattern(loopPrevention, assumedRoleCall(ROLE))).toBe(false);
  });
});

describe("matchesPattern: $or", () => {
  const pattern: EventPattern = {
    detail: {
      $or: [
        { eventName: ["PutKeyPolicy"] },
        { eventName: ["CreateKey"], requestParameters: { policy: [{ exists: true }] } },
      ],
      errorCode: [{ exists: false }],
    },
  };

  it("matches when one sub-pattern matches, together with the other fields", () => {
    expect(matchesPattern(pattern, { detail: { eventName: "PutKeyPolicy" } })).toBe(true);
    expect(
      matchesPattern(pattern, { detail: { eventName: "CreateKey", requestParameters: { policy: "{}" } } }),
    ).toBe(true);
    expect(matchesPattern(pattern, { detail: { eventName: "CreateKey", requestParameters: {} } })).toBe(
      false,
    );
    expect(
      matchesPattern(pattern, { detail: { eventName: "PutKeyPolicy", errorCode: "AccessDenied" } }),
    ).toBe(false);
  });

  it("allows $or at several levels of one pattern", () => {
    const twoLevels: EventPattern = {
      $or: [{ source: ["aws.kms"] }, { source: ["aws.s3"] }],
      detail: { $or: [{ a: ["1"] }, { b: ["2"] }] },
    };
    expect(matchesPattern(twoLevels, { source: "aws.s3", detail: { b: "2" } })).toBe(true);
    expect(matchesPattern(twoLevels, { source: "aws.s3", detail: { b: "3" } })).toBe(false);
  });

  it("rejects a malformed $or", () => {
    expect(() => matchesPattern({ $or: [{ a: ["1"] }] }, {})).toThrow(/\$or/);
  });
});

describe("matchesPattern: anything-but wildcard", () => {
  it("matches a string that the wildcard does not, never an absent field", () => {
    const pattern = { s: [{ "anything-but": { wildcard: "arn:*:role/path/*" } }] };
    expect(matchesPattern(pattern, { s: "arn:aws:iam::1:role/path/x" })).toBe(false);
    expect(matchesPattern(pattern, { s: "arn:aws:iam::1:role/other" })).toBe(true);
    expect(matchesPattern(pattern, {})).toBe(false);
  });
});

describe("matchesPattern: unsupported operators", () => {
  it("throws rather than guess", () => {
    expect(() => matchesPattern({ n: [{ numeric: [">", 0] }] }, { n: 1 })).toThrow(
      /unsupported pattern operator "numeric"/,
    );
    expect(() =>
      matchesPattern({ s: [{ "anything-but": { "equals-ignore-case": "a" } }] }, { s: "b" }),
    ).toThrow(/anything-but/);
    expect(() =>
      matchesPattern({ s: [{ "anything-but": { prefix: "a", suffix: "b" } }] }, { s: "c" }),
    ).toThrow(/anything-but/);
    expect(() => matchesPattern({ s: [{ "anything-but": { suffix: 1 } }] }, { s: "c" })).toThrow(
      /anything-but/,
    );
    expect(() => matchesPattern({ s: "x" }, { s: "x" })).toThrow(/must be an array or an object/);
  });
});

describe("the incidents' pattern building blocks (functions/shared/rule.ts)", () => {
  const OTHER_RESPONDER = "arn:aws:iam::111122223333:role/kms-responder-runbookRole-EXAMPLE";
  const call = (detail: Record<string, unknown>) => ({
    source: "aws.kms",
    "detail-type": "AWS API Call via CloudTrail",
    detail: { eventSource: "kms.amazonaws.com", eventName: "CreateGrant", ...detail },
  });
  const byRole = (arn: string) => ({
    userIdentity: { type: "AssumedRole", sessionContext: { sessionIssuer: { type: "Role", arn } } },
  });
  const pattern = successfulCall(["CreateGrant"], notByResponder([ROLE, OTHER_RESPONDER]));

  it("notByResponder leaves out every responder role, and only them (IAM users and root still match)", () => {
    expect(matchesPattern(pattern, call(byRole("arn:aws:iam::111122223333:role/Admin")))).toBe(true);
    expect(matchesPattern(pattern, call(iamUserCall.detail))).toBe(true);
    expect(matchesPattern(pattern, call({ userIdentity: { type: "Root" } }))).toBe(true);
    expect(matchesPattern(pattern, call(byRole(ROLE)))).toBe(false);
    expect(matchesPattern(pattern, call(byRole(OTHER_RESPONDER)))).toBe(false);
  });

  it("notByResponder with no role adds no clause", () => {
    expect(notByResponder([])).toEqual({});
    expect(successfulCall(["CreateGrant"], notByResponder([]))).toEqual(
      kmsApiCall({ eventName: ["CreateGrant"], errorCode: [{ exists: false }] }),
    );
  });

  it("successfulCall matches the named calls that succeeded, from KMS only", () => {
    expect(
      matchesPattern(pattern, call({ errorCode: "AccessDenied", ...byRole("arn:aws:iam::1:role/x") })),
    ).toBe(false);
    expect(matchesPattern(pattern, call({ eventName: "RevokeGrant" }))).toBe(false);
    expect(matchesPattern(pattern, { ...call({}), source: "aws.s3" })).toBe(false);
  });
});
