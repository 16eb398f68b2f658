/**
 * A local HTTP proxy in front of moto: it forwards every request as it came, and lets its user see
 * each request (and when its answer ended), answer one itself (an operation moto lacks) or amend
 * moto's answer (a field moto leaves out). The benches watch calls through it; the drill and the
 * integration tests put the moto shim (moto-shim.ts) in front of moto with it.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A header the proxy adds to each request it forwards, so that whoever watches the process's
 * outgoing HTTP requests (the drill's call recorder) can tell the proxy's own requests to moto from
 * the calls of the code under test: in one process, every call would be seen twice.
 */
export const FORWARDED_HEADER = "x-kms-responder-forwarded";

/** An answer the proxy sends itself. */
export interface OwnAnswer {
  status: number;
  type: string;
  body: string;
}

export interface ProxyHooks {
  /** A request has arrived whole (`arrivedAt`: when its first byte came). */
  received?: (req: IncomingMessage, body: Buffer, arrivedAt: number) => void;
  /** An answer to send instead of forwarding, or undefined to forward. */
  answer?: (req: IncomingMessage, body: Buffer) => OwnAnswer | undefined;
  /**
   * Whether to hold moto's answer to this request whole and pass it through `amend` (answers are
   * streamed as they come otherwise).
   */
  amends?: (req: IncomingMessage, body: Buffer) => boolean;
  /** The body to send instead of moto's (its status and headers kept), or undefined to keep it. */
  amend?: (req: IncomingMessage, body: Buffer, status: number, answer: Buffer) => string | undefined;
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

/** Sends moto's answer on, whole and amended, when the hooks ask for it; streamed otherwise. */
function relay(
  req: IncomingMessage,
  body: Buffer,
  up: IncomingMessage,
  res: ServerResponse,
  hooks: ProxyHooks,
): void {
  const status = up.statusCode ?? 502;
  if (!hooks.amend || !hooks.amends?.(req, body)) {
    res.writeHead(status, up.headers);
    up.pipe(res);
    up.on("end", () => hooks.answered?.(req, body));
    return;
  }
  const chunks: Buffer[] = [];
  up.on("data", (c: Buffer) => chunks.push(c));
  up.on("end", () => {
    const original = Buffer.concat(chunks);
    const amended = hooks.amend?.(req, body, status, original);
    const out = amended === undefined ? original : Buffer.from(amended, "utf8");
    const headers: IncomingHttpHeaders = { ...up.headers, "content-length": String(out.length) };
    // A body rewritten here is sent whole: no chunked encoding, no checksum of the old one.
    delete headers["transfer-encoding"];
    if (amended !== undefined) delete headers["x-amz-crc32"];
    res.writeHead(status, headers);
    res.end(out);
    hooks.answered?.(req, body);
  });
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
      const own = hooks.answer?.(req, body);
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
          headers: { ...req.headers, [FORWARDED_HEADER]: "1" },
        },
        (up) => relay(req, body, up, res, hooks),
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

/** Stops a proxy: its idle keep-alive connections first, then the server. */
export async function closeProxy(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
