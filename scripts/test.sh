#!/usr/bin/env bash
# `npm test`: lint, typecheck, then every test. The S3 tests need a real S3 server: unless
# S3_TEST_ENDPOINT points at one already, a throw-away Ceph RADOS Gateway is installed (Debian
# packages, once) and started for this run, and stopped when it ends; the same for clamd. The browser tests need
# Chromium: installed (Debian's package, once) unless it is there.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run -s lint
npm run -s typecheck

scripts/browser.sh install

# One EXIT trap stops whatever this run started (a second `trap … EXIT` would replace the first).
s3_dir="" clamd_dir=""
stop_servers() {
  [ -z "$clamd_dir" ] || scripts/clamd.sh stop "$clamd_dir" || true
  [ -z "$s3_dir" ] || scripts/s3-test-server.sh stop "$s3_dir" || true
}
trap stop_servers EXIT

if [ -z "${S3_TEST_ENDPOINT:-}" ]; then
  scripts/s3-test-server.sh install
  eval "$(scripts/s3-test-server.sh start)"
  s3_dir=$S3_TEST_DIR
fi

# The virus-scanning tests need a real clamd: unless CLAMD_TEST_PORT points at one already, a
# throw-away one (Debian's clamav-daemon, one test signature, ~0.1 s to start) for this run.
if [ -z "${CLAMD_TEST_PORT:-}" ]; then
  scripts/clamd.sh install
  eval "$(scripts/clamd.sh start)"
  clamd_dir=$CLAMD_TEST_DIR
fi

# Every test file, two at a time (2 cores), the slowest first (see the script).
node --import tsx scripts/run-tests.ts
