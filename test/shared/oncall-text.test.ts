/**
 * What an on-call engineer reads in a notification: the user agent shortened to what identifies the
 * tool, singular counts, and an unparseable AWS answer said as such rather than as a parser's
 * complaint about an HTML page.
 */
import { describe, expect, it } from "vitest";
import { decide as decidePolicy } from "../../functions/key-policy-violation/decide.js";
import { parseConfig } from "../../functions/shared/config.js";
import { describeError } from "../../functions/shared/errors.js";
import { normalise } from "../../functions/shared/event.js";
import { formatNotification, shortUserAgent } from "../../functions/shared/notify.js";
import { loadEvent } from "../helpers/fixtures.js";

describe("shortUserAgent", () => {
  it.each([
    [
      "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#kms.create-grant",
      "aws-cli/2.22.4 kms.create-grant",
    ],
    ["Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.4", "Boto3/1.35.0"],
    ["[aws-sdk-java/1.12.700 Linux/5.10 OpenJDK_64-Bit_Server_VM/17]", "aws-sdk-java/1.12.700"],
    ["AWS Internal", "AWS"],
    ["console.amazonaws.com", "console.amazonaws.com"],
    [`x/${"9".repeat(100)}`, `x/${"9".repeat(77)}…`],
  ])("%s -> %s", (agent, expected) => {
    expect(shortUserAgent(agent)).toBe(expected);
  });

  it("the text body carries the short form, the JSON document the whole agent", () => {
    // Prepare
    const event = normalise(loadEvent("key-policy-violation/public-policy"));
    if (!event?.userAgent) throw new Error("the fixture has no user agent");
    const decision = decidePolicy(event, parseConfig({ mode: "enforce" }), {});
    if (decision.kind !== "finding") throw new Error("expected a finding");

    // Act
    const note = formatNotification({ finding: decision, results: [] });

    // Assess
    expect(note.text).toContain(`(${shortUserAgent(event.userAgent)})`);
    expect(note.document.event.userAgent).toBe(event.userAgent);
  });
});

describe("counts read as English", () => {
  it("one finding is '1 finding', not '1 finding(s)'", () => {
    const event = normalise(loadEvent("key-policy-violation/public-policy"));
    if (!event) throw new Error("fixture did not normalise");
    const decision = decidePolicy(event, parseConfig({ mode: "enforce" }), {});
    if (decision.kind !== "finding") throw new Error("expected a finding");
    expect(decision.summary).toMatch(/ with 1 finding: /);
    expect(decision.summary).not.toContain("(s)");
  });
});

describe("describeError on an answer that is not an AWS response", () => {
  it("says the HTTP status and what it was, never the parser's text about the page", () => {
    // Prepare: what the SDK throws for an HTML error page
    const error = Object.assign(new SyntaxError(`Unexpected token '<', "<!doctype "... is not valid JSON`), {
      $metadata: { httpStatusCode: 502 },
    });

    // Act
    const text = describeError(error);

    // Assess
    expect(text).toBe("UnreadableResponse: HTTP 502, and the body was not an AWS answer (an error page?)");
    expect(text).not.toMatch(/doctype|Unexpected token/);
  });

  it("keeps the name and first line of any other error", () => {
    expect(describeError(new RangeError("too many\nsecond line"))).toBe("RangeError: too many");
  });
});
