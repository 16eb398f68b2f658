/** Types of scripts/build-cli.mjs (plain JavaScript, so that `npm ci` can run it without tsx). */
export declare const CLI_DIR: string;
export declare const CLI_ENTRY: string;
/** Why the CLI must be built (missing, or older than a source), or undefined when it is current. */
export declare function cliStale(): string | undefined;
/** Builds the command line into dist/cli/. */
export declare function buildCli(): Promise<void>;
