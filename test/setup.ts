// Registers the aws-sdk-client-mock matchers (toReceiveCommandWith, ...) for every test file,
// with their TypeScript declarations.
import "aws-sdk-client-mock-vitest/extend";
