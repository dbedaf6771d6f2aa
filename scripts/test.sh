#!/usr/bin/env bash
# `npm test`: lint, typecheck, then every test. The S3 tests need a real S3 server: unless
# S3_TEST_ENDPOINT points at one already, a throw-away Ceph RADOS Gateway is installed (Debian
# packages, once) and started for this run, and stopped when it ends. The browser tests need
# Chromium: installed (Debian's package, once) unless it is there.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run -s lint
npm run -s typecheck

scripts/browser.sh install

if [ -z "${S3_TEST_ENDPOINT:-}" ]; then
  scripts/s3-test-server.sh install
  eval "$(scripts/s3-test-server.sh start)"
  trap 'scripts/s3-test-server.sh stop "$S3_TEST_DIR"' EXIT
fi

# Node 20's test runner takes no globs: list the files. Two files run at a time (2 cores).
mapfile -t files < <(find src test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=2 "${files[@]}"
