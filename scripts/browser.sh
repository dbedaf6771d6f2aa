#!/usr/bin/env bash
# Chromium for the browser tests (test/helpers/browser.ts drives it with playwright-core, which
# downloads no browser of its own): Debian's `chromium` package, so the system updates it.
#
#   scripts/browser.sh install   # apt-get it unless /usr/bin/chromium is there (then: instant)
#   scripts/browser.sh version   # what is installed, e.g. "Chromium 156.0.8078.114 ..."
# Quiet on success, non-interactive, idempotent. fonts-liberation: metric-compatible fonts, so
# screenshots do not depend on whatever the machine happens to have.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

log() { printf 'browser: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

install() {
  [ -x "$CHROMIUM" ] && return 0
  log "installing chromium with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Use-Pty=0 chromium fonts-liberation </dev/null >&2
  [ -x "$CHROMIUM" ] || die "$CHROMIUM not found after installing chromium"
}

version() {
  [ -x "$CHROMIUM" ] || die "$CHROMIUM is missing: run $0 install"
  # Debian's launcher script complains on stderr about some /dev/shm sizes; the version is on stdout.
  "$CHROMIUM" --version 2>/dev/null
}

case "${1:-}" in
  install) install ;;
  version) version ;;
  *) echo "usage: $0 install | version" >&2; exit 2 ;;
esac
