#!/usr/bin/env bash
# Throw-away ClamAV daemon (Debian 12: clamav-daemon 1.4) for tests and benchmarks, on 127.0.0.1
# with one private test signature and nothing else: no freshclam, no download, no system service.
#
#   scripts/clamd.sh install               # apt-get it unless clamd is on PATH
#   eval "$(scripts/clamd.sh start [DIR])" # ~0.1 s; stdout: export CLAMD_TEST_*=...
#   scripts/clamd.sh stop "$CLAMD_TEST_DIR" # kill our clamd, rm -rf DIR (its log)
# Env: CLAMD_TEST_PORT (default 13310; when unset, the first free port from there up, so
# instances can run side by side; when set, a busy port is an error). CLAMD_TEST_STREAM_MAX:
# clamd's StreamMaxLength (default 25M; clamd's K/M suffixes are powers of 1024); a longer
# INSTREAM gets "INSTREAM size limit exceeded. ERROR". CLAMD_TEST_TIMEOUT (s, default 30).
# start prints CLAMD_TEST_HOST, _PORT, _DIR, _PID, _SIGNATURE (the name clamd reports for the
# test pattern), _PATTERN (the ASCII bytes that match it) and _STREAM_MAX (in bytes).
# Why it is built this way (clamd.conf below comments each setting):
#  - clamd refuses to start with no signatures at all, and freshclam cannot download here, so
#    the database is one .ndb line of our own: the hex of an ASCII marker, never a real sample.
#    clamd appends ".UNOFFICIAL" to the names of signatures that are not ClamAV's own.
#  - it runs with Foreground yes in the background, we keep $!, and poll PING until PONG.
set -euo pipefail

log() { printf 'clamd-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# The marker the test signature matches, and that signature's name as clamd reports it.
PATTERN=STOWAGE-TEST-MALWARE-SIGNATURE-2f8c1e
SIGNATURE_NAME=Stowage.Test.Marker-2f8c1e

install() {
  command -v clamd >/dev/null 2>&1 && return 0
  log "installing clamav-daemon with apt-get"
  # The package would start clamd (and freshclam, which would try to download the official
  # databases) as system services. invoke-rc.d and deb-systemd-invoke ask policy-rc.d first; exit
  # 101 means "not now". Only one of our own, and only while apt runs: a machine's own (Docker
  # images ship one) stays as it is. The units stay enabled for the next boot; nothing runs now.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\n# scripts/clamd.sh install: no services while it runs\nexit 101\n' >$policy && chmod 755 $policy"
    ours=1
  fi
  local rc=0
  {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Use-Pty=0 clamav-daemon </dev/null >&2
  } || rc=$?
  [ "$ours" = 0 ] || as_root rm -f "$policy"
  return "$rc"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# pick_port EXPLICIT DEFAULT: honour an explicit port, else the first free one from DEFAULT.
pick_port() {
  local p
  if [ -n "$1" ]; then port_busy "$1" && die "port $1 is already in use"; echo "$1"; return; fi
  for ((p = $2; p < $2 + 200; p++)); do port_busy "$p" || { echo "$p"; return; }; done
  die "no free port in $2..$(($2 + 199))"
}
# alive PID: running and not a zombie.
alive() { local s; read -r _ _ s _ 2>/dev/null <"/proc/$1/stat" && [ "$s" != Z ]; }
# pong PORT: clamd answers `zPING\0` with `PONG\0` (bash /dev/tcp: no clamdscan needed). A port
# someone else took between our check and clamd's bind would not answer PONG.
pong() {
  local reply
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'zPING\0' >&3
  IFS= read -r -d '' -t 2 reply <&3 || true
  exec 3<&-
  [ "$reply" = PONG ]
}
# bytes SIZE: clamd's size syntax (25M, 512K, 1048576) in bytes.
bytes() {
  [[ $1 =~ ^([0-9]+)([kKmM]?)$ ]] || die "CLAMD_TEST_STREAM_MAX must be a number with an optional K or M suffix, not '$1'"
  case ${BASH_REMATCH[2]} in
    k | K) echo $((BASH_REMATCH[1] * 1024)) ;;
    m | M) echo $((BASH_REMATCH[1] * 1024 * 1024)) ;;
    *) echo "${BASH_REMATCH[1]}" ;;
  esac
}

# EXIT trap of start: if it failed, show the log tail, kill clamd, drop a dir it made, and print
# `false` so that `eval "$(... start)"` fails too (eval "" would succeed).
start_failed() {
  local rc=$? f
  [ $rc = 0 ] && return
  log "start failed (exit $rc)"
  for f in ${dir:+"$dir"/clamd.log "$dir"/clamd.out}; do
    [ -s "$f" ] && { echo "==> $f <=="; tail -n 25 "$f"; } >&2
  done
  [ -z "$pid" ] || { kill -9 "$pid"; wait "$pid"; } 2>/dev/null || true
  [ "$created" = 0 ] || rm -rf "$dir"
  echo "false # clamd-test start failed, see stderr"
}

start() {
  # Globals, not locals: when set -e fires, bash drops the locals before the EXIT trap.
  dir=${1:-} created=0 pid=
  trap 'exit 130' INT TERM HUP
  trap start_failed EXIT
  command -v clamd >/dev/null 2>&1 || die "clamd not found: run scripts/clamd.sh install"
  local timeout=${CLAMD_TEST_TIMEOUT:-30} stream_max=${CLAMD_TEST_STREAM_MAX:-25M} max_bytes
  [[ $timeout =~ ^[1-9][0-9]*$ ]] || die "CLAMD_TEST_TIMEOUT must be whole seconds"
  max_bytes=$(bytes "$stream_max")
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/clamd-test.XXXXXX"); created=1
  else
    mkdir -p "$dir"; [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  fi
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/db"
  # An .ndb body signature: Name:TargetType:Offset:HexSignature; target 0 = any file, offset *
  # = anywhere in it (so also across two INSTREAM chunks: clamd scans the reassembled stream).
  printf '%s:0:*:%s\n' "$SIGNATURE_NAME" "$(printf %s "$PATTERN" | od -An -tx1 | tr -d ' \n')" >"$dir/db/stowage-test.ndb"

  # Parallel starts take turns until clamd has bound its port, so they can't pick the same
  # free port. clamd gets 9>&- so that it doesn't inherit (and hold) the lock.
  exec 9>>"${TMPDIR:-/tmp}/clamd-test.$(id -u).lock"
  flock -w 60 9 || die "could not get the port lock"
  local port
  port=$(pick_port "${CLAMD_TEST_PORT:-}" 13310)
  cat >"$dir/clamd.conf" <<EOF
# Everything in DIR: nothing in /var/lib/clamav, /var/log/clamav or /run/clamav.
DatabaseDirectory $dir/db
LogFile $dir/clamd.log
TemporaryDirectory $dir
# TCP on loopback only, no unix socket.
TCPSocket $port
TCPAddr 127.0.0.1
# We keep the pid of the process we started (a daemonized clamd would fork away from it).
Foreground yes
# No User line: clamd then runs as whoever starts it (root or not) and never tries to switch
# to the clamav user, which cannot read a root-owned DIR from mktemp (0700).
StreamMaxLength $stream_max
# A stream clamd accepts must be scanned whole: over MaxFileSize (default 100M) or MaxScanSize
# (400M) clamd stops scanning and still answers "stream: OK" (AlertExceedsMax is off).
MaxFileSize $stream_max
MaxScanSize $stream_max
# No hourly database reload check, nothing of ClamAV's own to load (bytecode, PUA, phishing).
SelfCheck 0
Bytecode no
PhishingSignatures no
EOF

  local started=${EPOCHREALTIME/./} deadline ms
  clamd -c "$dir/clamd.conf" </dev/null >"$dir/clamd.out" 2>&1 9>&- &
  pid=$!; echo "$pid" >"$dir/pid"
  deadline=$((SECONDS + timeout))
  until pong "$port"; do
    alive "$pid" || die "clamd (pid $pid) exited early"
    [ $SECONDS -lt $deadline ] || die "clamd did not answer PING on port $port within ${timeout}s"
    sleep 0.02
  done
  exec 9>&-
  ms=$(((${EPOCHREALTIME/./} - started) / 1000))
  log "clamd up on 127.0.0.1:$port in $ms ms (dir $dir)"
  printf 'export %s=%q\n' CLAMD_TEST_HOST 127.0.0.1 CLAMD_TEST_PORT "$port" CLAMD_TEST_DIR "$dir" CLAMD_TEST_PID "$pid" \
    CLAMD_TEST_SIGNATURE "$SIGNATURE_NAME.UNOFFICIAL" CLAMD_TEST_PATTERN "$PATTERN" CLAMD_TEST_STREAM_MAX "$max_bytes"
}

stop() {
  local dir=${1:-} pid i
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  [[ -f $dir/clamd.conf && -f $dir/pid ]] || die "$dir is not a clamd-test dir"
  dir=$(cd "$dir" && pwd)
  pid=$(cat "$dir/pid" 2>/dev/null || true)
  # Only a pid that is still ours (pids get reused). SIGKILL: nothing of clamd's is worth keeping.
  if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/clamd.conf"; then
    kill -9 "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && die "clamd (pid $pid) still alive 10 s after SIGKILL"
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-${CLAMD_TEST_DIR:-}}" ;;
  *) echo "usage: $0 install | start [DIR] | stop [DIR, default \$CLAMD_TEST_DIR]" >&2; exit 2 ;;
esac
