/**
 * The Node.js options every function runs with (its `NODE_OPTIONS`): none. The stack sets the
 * variable only when this list is not empty, and `npm run bench` times each cold start with the same
 * list, so the figure it prints is the cold start as deployed.
 *
 * `--enable-source-maps` is left out on purpose: with it, Node reads and parses every bundle's
 * source map at import, which made each cold start cost about 1.2-1.4x a bare KMS + SNS client
 * bundle instead of 1.1x. The maps still ship beside the bundles (`index.mjs.map`), so the code a
 * function runs and its maps can be downloaded together, and `kms-responder stack-trace` turns a
 * logged stack (positions in `/var/task/*.mjs`) back into TypeScript file, line and column.
 */
export const FUNCTION_NODE_OPTIONS: readonly string[] = [];

/** The `NODE_OPTIONS` entry of a function's environment: empty when there are no options. */
export function nodeOptionsEnvironment(): { NODE_OPTIONS?: string } {
  return FUNCTION_NODE_OPTIONS.length ? { NODE_OPTIONS: FUNCTION_NODE_OPTIONS.join(" ") } : {};
}
