#!/usr/bin/env node
// The command as it was first named: `node bin/kms-responder.mjs ...` runs the package's bin,
// bin/kms-responder.cjs (CommonJS, which starts faster).
import "./kms-responder.cjs";
