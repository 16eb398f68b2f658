// Registers the aws-sdk-client-mock matchers (toReceiveCommandWith, ...) for every test file,
// with their TypeScript declarations.
import "aws-sdk-client-mock-vitest/extend";

// This machine runs Node 20; the SDK's notice that future versions need Node 22 is not a test finding.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
// The functions' JSON log lines are for CloudWatch; in a test run they bury the results. A test that
// wants them sets the level itself (vi.stubEnv before importing the module under test).
process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
