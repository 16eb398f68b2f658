/**
 * A local HTTP proxy in front of moto, for the benches that watch the calls a handler makes: it
 * forwards every request as it came, and lets the bench see each request (and when its answer
 * ended) or answer one itself (an operation moto lacks).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ProxyHooks {
  /** A request has arrived whole (`arrivedAt`: when its first byte came). */
  received?: (req: IncomingMessage, body: Buffer, arrivedAt: number) => void;
  /** An answer to send instead of forwarding, or undefined to forward. */
  answer?: (req: IncomingMessage) => { status: number; type: string; body: string } | undefined;
  /** A forwarded request's answer has ended. */
  answered?: (req: IncomingMessage, body: Buffer) => void;
}

/** The AWS operation of a request: its JSON protocol target, else its query `Action`. */
export function operationOf(req: IncomingMessage, body: Buffer): string {
  const target = req.headers["x-amz-target"];
  return typeof target === "string"
    ? (target.split(".").pop() ?? "?")
    : (new URLSearchParams(body.toString("utf8")).get("Action") ?? "?");
}

export async function forwardingProxy(
  target: string,
  hooks: ProxyHooks = {},
): Promise<{ endpoint: string; server: Server }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const arrivedAt = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      hooks.received?.(req, body, arrivedAt);
      const own = hooks.answer?.(req);
      if (own) {
        res.writeHead(own.status, { "content-type": own.type });
        res.end(own.body);
        return;
      }
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on("end", () => hooks.answered?.(req, body));
        },
      );
      forward.on("error", (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, server };
}
