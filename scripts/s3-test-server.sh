#!/usr/bin/env bash
# Throw-away one-node Ceph RADOS Gateway (Debian 12: Ceph 16.2): a real S3 server that
# checks SigV4, for tests. One monitor + one OSD + radosgw on 127.0.0.1, no cephx, no mgr.
#
#   scripts/s3-test-server.sh install               # apt-get it unless radosgw is on PATH
#   eval "$(scripts/s3-test-server.sh start [DIR])" # ~1.3 s; stdout: export S3_TEST_*=...
#   scripts/s3-test-server.sh stop "$S3_TEST_DIR"   # kill -9 our pids, rm -rf DIR (logs)
# Env: S3_TEST_PORT (default 17480) and S3_TEST_MON_PORT (default 16789): when unset, the
# first free port from the default up, so instances can run side by side; when set, a busy
# port is an error. S3_TEST_TIMEOUT (s, default 30). S3_TEST_BLUESTORE=1: objects go to a
# sparse file (S3_TEST_BLUESTORE_BYTES, default 20 GiB) instead of RAM; starts in ~4.5 s.
# Why it is built this way (the ceph.conf below comments each setting):
#  - `radosgw` exits 0 when it daemonizes even if it dies right after, and writes no pid
#    file with -f; so it runs with -f in the background, we keep $!, and poll HTTP.
#  - stop uses SIGKILL: on SIGTERM the memstore OSD would first write every object to DIR.
#  - memstore keeps objects in RAM, ~2x their size: use S3_TEST_BLUESTORE=1 for big ones.
# What clients must know about radosgw 16.2:
#  - path-style only (no rgw_dns_name), presigned URLs included: forcePathStyle: true.
#  - SigV4 is checked with whatever region the client signs for; we announce us-east-1.
#    A CreateBucket LocationConstraint other than "default" fails (us-east-1 sends none).
#  - AWS SDK v3 needs requestChecksumCalculation: "WHEN_REQUIRED", or a streamed PutObject
#    gets 411. CompleteMultipartUpload answers an empty ETag. If-None-Match: * works.
#  - curl --aws-sigv4 also needs -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD'.
set -euo pipefail
unset CEPH_ARGS CEPH_CONF

log() { printf 's3-test-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

install() {
  command -v radosgw >/dev/null 2>&1 && return 0
  log "installing radosgw ceph-mon ceph-osd ceph-common with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Use-Pty=0 radosgw ceph-mon ceph-osd ceph-common </dev/null >&2
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# pick_port EXPLICIT DEFAULT: honour an explicit port, else the first free one from DEFAULT.
pick_port() {
  local p
  if [ -n "$1" ]; then port_busy "$1" && die "port $1 is already in use"; echo "$1"; return; fi
  for ((p = $2; p < $2 + 200; p++)); do port_busy "$p" || { echo "$p"; return; }; done
  die "no free port in $2..$(($2 + 199))"
}
# alive PID: running and not a zombie (nobody may reap daemons whose parent has exited).
alive() { local s; read -r _ _ s _ 2>/dev/null <"/proc/$1/stat" && [ "$s" != Z ]; }
# owns_port PID PORT: PID holds the listening socket, i.e. we are not talking to some
# other server that took the port between our check and radosgw's bind.
owns_port() {
  local inode
  inode=$(awk -v a="$(printf '0100007F:%04X' "$2")" '$2 == a && $4 == "0A" {print $10; exit}' /proc/net/tcp)
  [ -n "$inode" ] && [ -n "$(find "/proc/$1/fd" -lname "socket:\\[$inode\\]" -print -quit 2>/dev/null)" ]
}
# s3_up PORT: an anonymous ListBuckets answers 200 (bash /dev/tcp: no curl needed).
s3_up() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  read -r -t 2 line <&3 || true
  exec 3<&-
  [[ "$line" == HTTP/1.?\ 200* ]]
}

# EXIT trap of start: if it failed, show the log tails, kill what it started, drop a dir it
# made, and print `false` so that `eval "$(... start)"` fails too (eval "" would succeed).
start_failed() {
  local rc=$? f
  [ $rc = 0 ] && return
  log "start failed (exit $rc)${logdir:+; log tails from $logdir:}"
  for f in ${logdir:+"$logdir"/*}; do
    [[ -s $f && $f != *audit* ]] && { echo "==> $f <=="; tail -n 25 "$f"; } >&2
  done
  [ ${#pids[@]} = 0 ] || { kill -9 "${pids[@]}"; wait "${pids[@]}"; } 2>/dev/null || true
  [ "$created" = 0 ] || rm -rf "$dir"
  echo "false # s3-test-server start failed, see stderr"
}

start() {
  # Globals, not locals: when set -e fires, bash drops the locals before the EXIT trap.
  dir=${1:-} created=0 pids=() logdir=
  trap 'exit 130' INT TERM HUP
  trap start_failed EXIT
  install
  command -v radosgw >/dev/null 2>&1 || die "radosgw not found after install"
  local timeout=${S3_TEST_TIMEOUT:-30}
  [[ $timeout =~ ^[1-9][0-9]*$ ]] || die "S3_TEST_TIMEOUT must be whole seconds"
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/s3-test.XXXXXX"); created=1
  else
    mkdir -p "$dir"; [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  fi
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir"/{mon,osd,log,run,crash}
  logdir=$dir/log

  # Parallel starts take turns until radosgw has bound its port, so they can't pick the
  # same free port. Daemons get 9>&- so that they don't inherit (and hold) the lock.
  exec 9>>"${TMPDIR:-/tmp}/s3-test-server.$(id -u).lock"
  flock -w 120 9 || die "could not get the port lock"
  local port mon_port fsid osd_uuid conf=$dir/ceph.conf store
  port=$(pick_port "${S3_TEST_PORT:-}" 17480)
  mon_port=$(pick_port "${S3_TEST_MON_PORT:-}" 16789)
  fsid=$(cat /proc/sys/kernel/random/uuid); osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  if [ "${S3_TEST_BLUESTORE:-0}" = 1 ]; then
    # Sparse block file, created at mkfs (no fsck of the empty store: -1 s); small caches
    # keep RSS near memstore's.
    store="osd_objectstore = bluestore
bluestore_fsck_on_mkfs = false
bluestore_block_path = $dir/bluestore.img
bluestore_block_create = true
bluestore_block_size = ${S3_TEST_BLUESTORE_BYTES:-21474836480}
bluestore_cache_autotune = false
bluestore_cache_size = 67108864"
  else
    # The size is only the capacity the OSD reports (it fills up at 95%), not reserved RAM.
    store="osd_objectstore = memstore
memstore_device_bytes = 4294967296"
  fi
  cat >"$conf" <<EOF
[global]
fsid = $fsid
# msgr2 only, a high port, loopback only: keeps clear of a real cluster's 3300/6789.
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
ms_bind_msgr1 = false
# No cephx: no keyrings to make (but see ms_mon_client_mode below).
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# Everything under DIR: nothing in /var/log/ceph, /var/run/ceph or /var/lib/ceph.
run_dir = $dir/run
admin_socket = $dir/run/\$name.\$pid.asok
log_file = $dir/log/\$name.log
mon_cluster_log_file = default=$dir/log/\$channel.log cluster=$dir/log/cluster.log
crash_dir = $dir/crash
# One OSD: pools of size 1 and few PGs (no mgr, so no autoscaler to change them).
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
mon_max_pg_per_osd = 1000
[mon]
mon_data = $dir/mon
# The monitor shuts itself down when its disk is <5% free; CI disks often are.
mon_data_avail_crit = 1
# Commit map changes at once instead of batching them for 1 s: start ~8 s -> ~1.3 s.
paxos_propose_interval = 0.01
paxos_min_wait = 0.01
# Each pool create would fork a CRUSH self-test (~80 ms); nothing to test with one OSD.
mon_osd_crush_smoke_test = false
[osd]
osd_data = $dir/osd
$store
[client]
# Without cephx the mon client must still be able to agree on a msgr2 mode with the mon,
# or radosgw hangs 300 s on "failed to fetch mon config".
ms_mon_client_mode = crc
# radosgw-admin may start before the new OSD is marked up; its ops then wait for a newer
# osdmap, which the client only asks for on its tick (default 5 s): +5 s on 1 start in 3.
objecter_tick_interval = 0.1
[client.rgw]
# tcp_nodelay: without it Beast's header and body writes of any answer under 64 KiB meet the
# client's delayed ACK: every small GET (the confirm's 4 KiB sniff) took 48 ms instead of 4.
rgw_frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
# 512 request threads by default; 64 do for tests, start faster and use ~10 MiB less.
rgw_thread_pool_size = 64
# A lifecycle "day" lasts 10 s, so expiration rules can be tested (expires in ~20 s).
rgw_lc_debug_interval = 10
EOF

  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >"$dir/log/setup.out" 2>&1
  ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" >>"$dir/log/setup.out" 2>&1
  ceph-mon -c "$conf" -i a -f </dev/null >"$dir/log/mon.out" 2>&1 9>&- &
  pids+=($!); echo $! >>"$dir/pids"
  timeout "$timeout" ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.out" 2>&1 9>&- &
  local mkfs_pid=$!
  # One ceph CLI session for everything (each `ceph` run costs ~0.4 s of Python startup).
  # Pre-created pools save radosgw seconds of creating them one by one, and the first
  # CreateBucket 2 s. No `osd pool application enable`: ~50 ms a pool, only to silence a
  # health warning that nobody raises without a mgr.
  {
    echo "osd new $osd_uuid 0"
    for pool in .rgw.root default.rgw.control default.rgw.meta default.rgw.log \
      default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
      echo "osd pool create $pool 8"
    done
  } | timeout "$timeout" ceph -c "$conf" >>"$dir/log/setup.out" 2>&1 9>&-
  wait "$mkfs_pid" || die "ceph-osd --mkfs failed"
  ceph-osd -c "$conf" -i 0 -f </dev/null >"$dir/log/osd.out" 2>&1 9>&- &
  pids+=($!); echo $! >>"$dir/pids"

  local ak sk deadline pid
  ak=$(od -An -N10 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
  sk=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
  # The user comes before radosgw: radosgw-admin notifies running gateways of the change,
  # and one that is still starting can leave that notify hanging for 5 s.
  timeout "$timeout" radosgw-admin -c "$conf" user create --uid=s3-test --display-name=s3-test \
    --access-key="$ak" --secret-key="$sk" >>"$dir/log/setup.out" 2>&1 9>&-
  radosgw -c "$conf" -n client.rgw -f </dev/null >"$dir/log/rgw.out" 2>&1 9>&- &
  pids+=($!); echo $! >>"$dir/pids"

  deadline=$((SECONDS + timeout))
  until owns_port "${pids[2]}" "$port" && s3_up "$port"; do
    for pid in "${pids[@]}"; do alive "$pid" || die "daemon with pid $pid exited early"; done
    [ $SECONDS -lt $deadline ] || die "radosgw did not answer on port $port within ${timeout}s"
    sleep 0.05
  done
  exec 9>&-
  log "S3 up on http://127.0.0.1:$port (dir $dir)"
  printf 'export %s=%q\n' S3_TEST_ENDPOINT "http://127.0.0.1:$port" S3_TEST_ACCESS_KEY "$ak" \
    S3_TEST_SECRET_KEY "$sk" S3_TEST_REGION us-east-1 S3_TEST_DIR "$dir"
  printf 'export S3_TEST_PIDS="%s"\n' "${pids[*]}"
}

stop() {
  local dir=${1:-} pid pids=() recorded i left=()
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  [[ -f $dir/ceph.conf && -f $dir/pids ]] || die "$dir is not an s3-test-server dir"
  dir=$(cd "$dir" && pwd)
  mapfile -t recorded <"$dir/pids"
  for pid in "${recorded[@]}"; do
    # Only a pid that is still one of ours (pids get reused).
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/ceph.conf"; then
      kill -9 "$pid" 2>/dev/null || true; pids+=("$pid")
    fi
  done
  for ((i = 0; i < 200; i++)); do
    left=(); for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
    [ ${#left[@]} = 0 ] && break; sleep 0.05
  done
  [ ${#left[@]} = 0 ] || die "pids ${left[*]} still alive 10 s after SIGKILL"
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-${S3_TEST_DIR:-}}" ;;
  *) echo "usage: $0 install | start [DIR] | stop [DIR, default \$S3_TEST_DIR]" >&2; exit 2 ;;
esac
