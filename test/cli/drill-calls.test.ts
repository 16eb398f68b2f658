/**
 * The drill's call recorder sees every outgoing HTTP request of the process; the moto proxy's own
 * forwarding requests (marked by the proxy) are not calls of the handler and are left out, or every
 * call made through the proxy would be counted twice.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { recordCalls } from "../../cli/drill/calls.js";
import { closeProxy, forwardingProxy } from "../../emulator/proxy.js";

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

/** A KMS-like call (SigV4 scope names the service, X-Amz-Target the operation) to `endpoint`. */
function call(endpoint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${endpoint}/`,
      {
        method: "POST",
        headers: {
          authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261208/us-east-1/kms/aws4_request",
          "x-amz-target": "TrentService.DescribeKey",
          "content-type": "application/x-amz-json-1.1",
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve());
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

describe("recordCalls", () => {
  it("records a call made through the moto proxy once, not the proxy's forwarding request", async () => {
    // Arrange: an upstream standing in for moto, and the proxy in front of it.
    const upstream = createServer((_req, res) => res.end("{}"));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    closing.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const proxy = await forwardingProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    closing.push(() => closeProxy(proxy.server));
    const recorder = recordCalls();

    // Act
    await call(proxy.endpoint);
    recorder.stop();

    // Assert
    expect(recorder.calls.map((c) => c.operation)).toEqual(["DescribeKey"]);
  });
});
