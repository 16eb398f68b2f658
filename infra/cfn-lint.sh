#!/bin/sh
# `npm run cfn-lint`: lint the synthesized CloudFormation template (synthesizing it first when
# cdk.out holds none). Extra arguments go to cfn-lint, e.g. `npm run cfn-lint -- --format json`.
set -eu
cd "$(dirname "$0")/.."

if ! command -v cfn-lint >/dev/null 2>&1; then
  echo 'cfn-lint is not installed. Install it with: pip install "moto[server]" cfn-lint' >&2
  exit 127
fi

if ! ls cdk.out/*.template.json >/dev/null 2>&1; then
  echo "no template in cdk.out: running npm run synth first" >&2
  npm run synth
fi

cfn-lint "$@" cdk.out/*.template.json
