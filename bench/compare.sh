#!/usr/bin/env bash
# Measures the library's example server (examples/server: file:// content,
# SQLite records) side by side with the anchors of ../shared/bench (rawsink,
# the physical limit; tusd v2.9.1; http.ServeFile) IN THE SAME RUN, and prints
# a markdown report: the transfer table (../shared/bench's cmd/report) and the
# goals of ../shared/bench/README.md ("Target") as measured ratios.
#
#   bash bench/compare.sh            # from the repo root; ~6 min, ~10 min if a run
#                                    # (or run-baselines.sh) ended < ~6 min ago (inode wait)
#   BENCH_QUICK=1 bash bench/compare.sh   # short smoke run (~4 min; not for figures)
#
# Environment knobs (all optional):
#   BENCH_BIN=/tmp/benchbin          binaries (harness, tusd, attachment-server)
#   BENCH_WORK=/tmp/bench-compare    server data dirs, fixtures, results
#   BENCH_SHARED=<repo>/../shared/bench   the harness sources
#   BENCH_BUDGET_S=1800              no new measurement starts after this many s
#   BENCH_SEED=1                     content seed
#   BENCH_SETTLE_S=4                 sync + idle pause before each measurement
#   BENCH_DROP_CACHES=1              before each upload row, also drop the clean page cache
#                                    (root only; skipped elsewhere): on the 2-vCPU VM a 1 GiB
#                                    row wrote at 0.3 GB/s after earlier rows had filled the
#                                    cache, 1 GB/s after a drop. Download rows keep theirs warm.
#   BENCH_INODE_QUIET_S=370          before the 4 KiB uploads, wait until this long
#                                    after the last mass file delete of this script
#                                    or of run-baselines.sh (0: do not wait)
#   BENCH_N1G=2                      uploads per 1 GiB row
#   BENCH_QUICK=0                    1: smaller sizes, shorter runs, no inode wait
#   BENCH_SOURCE=head                head: build the library from the committed HEAD
#                                    (git archive); worktree: from the work tree as it is
#   BENCH_S3=1                       0: no S3 rows. 1: start PostgreSQL and versitygw with
#                                    .ci/services (in BENCH_WORK/services) and measure the
#                                    library on s3:// + postgres:// against direct presigned
#                                    PUTs (bench/s3put) of the same sizes to the same versitygw
#   BENCH_ONLY_S3=0                  1: the S3 rows alone (the file-bucket rows show n/a)
#
# Everything listens on and targets 127.0.0.1 only; every measurement has its
# own timeout and the script a time budget; servers are stopped by their PIDs;
# all data lives under BENCH_WORK (refused inside the repository).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${BENCH_SHARED:-$REPO/../shared/bench}"
BIN="${BENCH_BIN:-/tmp/benchbin}"
WORK="${BENCH_WORK:-/tmp/bench-compare}"
BUDGET_S="${BENCH_BUDGET_S:-1800}"
SEED="${BENCH_SEED:-1}"
SETTLE_S="${BENCH_SETTLE_S:-4}"
DROP_CACHES="${BENCH_DROP_CACHES:-1}"
QUICK="${BENCH_QUICK:-0}"
INODE_QUIET_S="${BENCH_INODE_QUIET_S:-370}"
N1G="${BENCH_N1G:-2}"
SOURCE="${BENCH_SOURCE:-head}"
S3="${BENCH_S3:-1}"
ONLY_S3="${BENCH_ONLY_S3:-0}"
TUSD_VERSION="v2.9.1"
HOST=127.0.0.1
RAW_PORT=18190
TUS_PORT=18191
ATT_PORT=18192
PREFIX=/attachments
MAX_SIZE=4294967296

# Sizes and durations of the scenarios (full run; BENCH_QUICK shrinks them).
BIG=1GiB BIG_N=$N1G
MID=64MiB MID_N=32
S3BIG=256MiB S3BIG_N=2
ONE_N=256
SMALL_S=10 SMALL_WARM=10
DL_N=16 WRK_S=10
if [[ "$QUICK" == 1 ]]; then
  BIG=256MiB BIG_N=1 MID_N=8 S3BIG=64MiB S3BIG_N=1 ONE_N=32 SMALL_S=3 SMALL_WARM=2 DL_N=4 WRK_S=3
  INODE_QUIET_S=0
fi

STAMP="$(date +%Y%m%d-%H%M%S)"
OUT="$WORK/results-$STAMP"
RESULTS="$OUT/results.jsonl"
TRASH="$WORK/trash-$STAMP"
FIX="$WORK/fixtures-$STAMP"
QUIET_FILE="$WORK/.last-mass-delete"                   # epoch s of this script's last mass delete
BASELINE_QUIET_FILE=/tmp/bench-baselines/.last-mass-delete # run-baselines.sh's (default BENCH_WORK)
DATA="$WORK/data"                                       # the running server's data dir
QUIET_NOTE=""
WAITED=""
SERVER_PID=""
SERVER_NAME=""
HWM=-1
SERVICES=""   # BENCH_WORK/services once .ci/services started there
S3_BLOB=""    # the s3:// URL of the bucket (without prefix)
PG_ADMIN=""   # the PostgreSQL server's URL, without database
S3_SEQ=0

log() { printf '[%s +%4ds] %s\n' "$(date +%H:%M:%S)" "$SECONDS" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$BIN/|$WORK/" in
  *"$REPO/"*) die "BENCH_BIN and BENCH_WORK must be outside the repository ($REPO)" ;;
esac
[[ -d "$SHARED/cmd/loadgen" ]] || die "harness not found at $SHARED (set BENCH_SHARED)"

# ---------------------------------------------------------------------------
# Cleanup: stop our server by its PID, drop data, delete moved-aside dirs.

stop_pid() { # pid
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    stop_pid "$SERVER_PID"
  fi
  SERVER_PID=""
  if [[ -n "$SERVICES" ]]; then
    "$REPO/.ci/services" stop "$SERVICES" >/dev/null 2>&1 || true
    rm -rf "$SERVICES"
  fi
  rm -rf "$DATA" "$FIX"
  [[ -n "${SRC:-}" && "$SRC" != "$REPO" ]] && rm -rf "$SRC"
  mass_delete
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# 1. Tools

if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt-get)"
  [[ $(id -u) -eq 0 ]] || die "need root for apt-get install wrk"
  timeout 300 apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends wrk >&2 \
    || die "apt-get install wrk failed"
fi
for t in curl jq; do command -v "$t" >/dev/null 2>&1 || die "$t is needed"; done

mkdir -p "$BIN" "$OUT"
free_gib=$(df -BG --output=avail "$WORK" | tail -1 | tr -dc 0-9)
((free_gib >= 12)) || die "need >= 12 GiB free under $WORK (have ${free_gib} GiB)"

log "building the harness ($SHARED) into $BIN"
(cd "$SHARED" && timeout 600 go build -o "$BIN/" ./cmd/loadgen ./cmd/rawsink ./cmd/report) 2>>"$OUT/build.log" ||
  (cd "$SHARED" && GOFLAGS=-mod=mod timeout 600 go build -o "$BIN/" ./cmd/loadgen ./cmd/rawsink ./cmd/report) \
    2>>"$OUT/build.log" || die "go build of the harness failed (see $OUT/build.log)"

tusd_ok() { [[ -x "$BIN/tusd" ]] && go version -m "$BIN/tusd" 2>/dev/null | grep -q "github.com/tus/tusd/v2[[:space:]]*$TUSD_VERSION"; }
if ! tusd_ok; then
  log "installing tusd $TUSD_VERSION into $BIN (compiles; a minute or two)"
  (cd /tmp && GOBIN="$BIN" timeout 900 go install "github.com/tus/tusd/v2/cmd/tusd@$TUSD_VERSION") \
    2>>"$OUT/build.log" || die "go install tusd failed (see $OUT/build.log)"
  tusd_ok || die "tusd in $BIN is not $TUSD_VERSION"
fi

# The library is built from the committed HEAD (a git archive under
# BENCH_WORK), so that uncommitted work of others in the work tree neither
# changes nor breaks the figures; BENCH_SOURCE=worktree builds the work tree.
if [[ "$SOURCE" == worktree ]]; then
  SRC="$REPO"
  LIB_DESC="work tree of $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$([[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]] && echo ', with uncommitted changes')"
else
  SRC="$WORK/src-$STAMP"
  mkdir -p "$SRC"
  git -C "$REPO" archive --format=tar HEAD | tar -x -C "$SRC" || die "git archive HEAD failed"
  LIB_DESC="commit $(git -C "$REPO" rev-parse --short HEAD) (git archive of HEAD)"
fi
log "building examples/server ($LIB_DESC) into $BIN/attachment-server"
(cd "$SRC" && timeout 600 go build -buildvcs=false -o "$BIN/attachment-server" ./examples/server) 2>>"$OUT/build.log" \
  || die "go build ./examples/server failed (see $OUT/build.log)"
if [[ "$S3" == 1 ]]; then
  (cd "$SRC" && timeout 600 go build -buildvcs=false -o "$BIN/s3put" ./bench/s3put) 2>>"$OUT/build.log" \
    || die "go build ./bench/s3put failed (see $OUT/build.log)"
fi
[[ "$SRC" == "$REPO" ]] || rm -rf "$SRC"

# ---------------------------------------------------------------------------
# 2. Helpers

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

wait_port() { # port
  local i
  for i in $(seq 1 200); do
    port_open "$1" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Seconds left in the budget, capped at $1.
budget() {
  local left=$((BUDGET_S - SECONDS))
  ((left > $1)) && left=$1
  echo "$left"
}

# start_server KIND [extra flags]: a fresh data dir and a fresh process.
start_server() {
  local kind=$1 port
  shift
  rm -rf "$DATA" && mkdir -p "$DATA"
  case $kind in
    rawsink)
      port=$RAW_PORT
      port_open "$port" && die "port $port already in use"
      "$BIN/rawsink" -addr "$HOST:$port" -dir "$DATA" "$@" >>"$OUT/rawsink.log" 2>&1 &
      ;;
    tusd)
      port=$TUS_PORT
      port_open "$port" && die "port $port already in use"
      "$BIN/tusd" -host "$HOST" -port "$port" -base-path /files/ -upload-dir "$DATA" \
        -verbose=false -show-startup-logs=false -shutdown-timeout 2s "$@" >>"$OUT/tusd.log" 2>&1 &
      ;;
    att)
      port=$ATT_PORT
      port_open "$port" && die "port $port already in use"
      "$BIN/attachment-server" -addr "$HOST:$port" -prefix "$PREFIX" \
        -blob "file://$DATA/blobs?create_dir=1&no_tmp_dir=1&metadata=skip" \
        -meta "sqlite://$DATA/meta.db" -max-size "$MAX_SIZE" "$@" >>"$OUT/attachment-server.log" 2>&1 &
      ;;
    att-s3)
      # A fresh key prefix and a fresh database: nothing of an earlier row.
      port=$ATT_PORT
      port_open "$port" && die "port $port already in use"
      S3_SEQ=$((S3_SEQ + 1))
      local db="bench_${STAMP//-/_}_$S3_SEQ"
      "$PSQL" "$PG_ADMIN/postgres" -qc "CREATE DATABASE $db" >>"$OUT/services.log" 2>&1 || die "CREATE DATABASE $db failed"
      "$BIN/attachment-server" -addr "$HOST:$port" -prefix "$PREFIX" \
        -blob "$S3_BLOB&prefix=bench-$STAMP-$S3_SEQ/" \
        -meta "$PG_ADMIN/$db?sslmode=disable" -max-size "$MAX_SIZE" "$@" >>"$OUT/attachment-server.log" 2>&1 &
      ;;
    *) die "unknown server $kind" ;;
  esac
  SERVER_PID=$!
  SERVER_NAME=$kind
  wait_port "$port" || die "$kind did not start (see $OUT/*.log)"
}

upload_url() {
  case $1 in
    rawsink) echo "http://$HOST:$RAW_PORT/upload" ;;
    tusd) echo "http://$HOST:$TUS_PORT/files/" ;;
    att | att-s3) echo "http://$HOST:$ATT_PORT$PREFIX/" ;;
  esac
}

# Reads VmHWM (KiB) into HWM right before stopping the server, stops it by
# its PID and discards its data. Not to be called in a subshell.
stop_server() {
  local hwm
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  discard_data
  HWM="${hwm:--1}"
}

# Big files are deleted at once (their dirty pages dropped, not written
# back); a data dir with many files is moved aside and deleted only at the
# end: on this machine's ext4 without journal, file creation stays slow for
# minutes after a mass delete (see ../shared/bench/README.md).
discard_data() {
  [[ -d "$DATA" ]] || return 0
  if (($(find "$DATA" -type f | head -n 1001 | wc -l) > 1000)); then
    mkdir -p "$TRASH" && mv "$DATA" "$TRASH/data-$SERVER_NAME-$RANDOM$RANDOM"
  else
    rm -rf "$DATA"
  fi
  sync
}

mass_delete() {
  [[ -e "$TRASH" ]] || return 0
  log "deleting the moved-aside small-file dirs"
  rm -rf "$TRASH"
  sync
  date +%s >"$QUIET_FILE"
}

# Before the small-file uploads: wait until INODE_QUIET_S after the last mass
# delete (ours or run-baselines.sh's), within the budget.
inode_quiet() {
  sync
  ((INODE_QUIET_S > 0)) || return 0
  local last=0 f v age need room
  for f in "$QUIET_FILE" "$BASELINE_QUIET_FILE"; do
    [[ -f "$f" ]] || continue
    v=$(cat "$f" 2>/dev/null || echo 0)
    [[ "$v" =~ ^[0-9]+$ ]] && ((v > last)) && last=$v
  done
  ((last > 0)) || return 0
  age=$(($(date +%s) - last))
  need=$((INODE_QUIET_S - age))
  ((need > 0)) || return 0
  room=$((BUDGET_S - SECONDS - 330))
  if ((need > room)); then
    need=$((room > 0 ? room : 0))
    QUIET_NOTE="started $((age + need)) s after a mass file delete (wanted ${INODE_QUIET_S} s)"
  fi
  if ((need > 0)); then
    log "waiting ${need}s: many files were deleted ${age}s ago (ext4 no-journal inode reuse delay)"
    sleep "$need"
    WAITED=$need
  fi
}

# settle [drop]: sync, with "drop" (upload rows) also the clean page cache
# when BENCH_DROP_CACHES=1 and we may, then an idle pause.
settle() {
  sync
  if [[ ${1:-} == drop && $DROP_CACHES == 1 && -w /proc/sys/vm/drop_caches ]]; then
    echo 1 >/proc/sys/vm/drop_caches
  fi
  sleep "$SETTLE_S"
}

hs() { sed 's/\([0-9]\)\([KMG]iB\)$/\1 \2/' <<<"$1"; } # 1GiB -> 1 GiB

pagecache_probe() {
  local f="$WORK/pagecache-probe" a b
  sync
  sleep "$SETTLE_S"
  a=$(dd if=/dev/zero of="$f" bs=1M count=1024 2>&1 | tail -1 | awk '{print $(NF-1), $NF}')
  rm -f "$f"
  b=$(dd if=/dev/zero of="$f" bs=1M count=1024 2>&1 | tail -1 | awk '{print $(NF-1), $NF}')
  rm -f "$f"
  sync
  echo "- page-cache write probe (dd 1 GiB, no fsync): after ${SETTLE_S} s idle $a; right after freeing the same amount $b"
}

emit() { # id scenario target hwm json-key json-value [note] [extra json members]
  printf '{"id":"%s","scenario":"%s","target":"%s","server_vmhwm_kib":%s,"%s":%s,"note":"%s"%s}\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}" "${8:+,$8}" >>"$RESULTS"
}

skip() { # id scenario target why
  log "SKIP $1: $4"
  printf '{"id":"%s","scenario":"%s","target":"%s","server_vmhwm_kib":-1,"note":"%s"}\n' "$1" "$2" "$3" "$4" >>"$RESULTS"
}

cpu_snap() { awk '/^cpu / {print $2+$3, $4+$7+$8, $5, $6, $9; exit}' /proc/stat; }
cpu_json() { # "u s i w st" "u s i w st"
  awk -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " "); t = 0
    for (k = 1; k <= 5; k++) { d[k] = y[k] - x[k]; t += d[k] }
    if (t == 0) t = 1
    printf "{\"user\":%.1f,\"system\":%.1f,\"idle\":%.1f,\"iowait\":%.1f,\"steal\":%.1f}", 100*d[1]/t, 100*d[2]/t, 100*d[3]/t, 100*d[4]/t, 100*d[5]/t
  }'
}

# measure ID SCENARIO TARGET SERVER TIMEOUT_S WARMUP_S -- loadgen flags...
# SERVER: rawsink | tusd | att. A fresh server and data dir; an unrecorded
# warm-up if WARMUP_S > 0; sync + settle; the timed run (with -verify when
# given); VmHWM read; server stopped.
measure() {
  local id=$1 scen=$2 target=$3 server=$4 tmo=$5 warm=$6
  shift 7
  local t url
  t=$(budget "$tmo")
  if ((t < 10)); then skip "$id" "$scen" "$target" "skipped: time budget spent"; return 0; fi
  start_server "$server"
  url=$(upload_url "$server")
  if ((warm > 0)); then
    timeout $((warm + 30)) "$BIN/loadgen" -url "$url" "$@" -duration "${warm}s" -n 0 -verify=false \
      -max-time "$((warm + 20))s" -seed 999 >/dev/null 2>>"$OUT/loadgen.log" || true
  fi
  settle drop
  log "measure $id: $scen — $target"
  local res rc=0
  res=$(timeout "$t" "$BIN/loadgen" -url "$url" -label "$id" -seed "$SEED" -server-pid "$SERVER_PID" \
    -max-time "$((t - 5))s" "$@" 2>>"$OUT/loadgen.log") || rc=$?
  stop_server
  if [[ $rc -ne 0 || -z "$res" ]]; then
    emit "$id" "$scen" "$target" "$HWM" loadgen null "loadgen exit $rc"
    log "  FAILED (exit $rc)"
  else
    emit "$id" "$scen" "$target" "$HWM" loadgen "$res" "${ROW_NOTE:-}"
    log "  $(jq -r '"\(.mb_s) MB/s, \(.ops_s) ops/s, ok \(.ops) failed \(.ops_failed), verify \(if .verify then "\(.verify.ok)/\(.verify.total)" else "-" end)"' <<<"$res") vmhwm=${HWM}KiB"
  fi
}

# measure_put ID SCENARIO TARGET TIMEOUT_S WARMUP_S -- s3put flags...: the
# S3 anchor. bench/s3put PUTs straight to versitygw, each PUT to a key of its
# own at a URL presigned for it (UNSIGNED-PAYLOAD: the client hashes
# nothing). No server of ours runs; versitygw's peak RSS is not ours to read.
measure_put() {
  local id=$1 scen=$2 target=$3 tmo=$4 warm=$5
  shift 6
  local t res rc=0
  t=$(budget "$tmo")
  if ((t < 10)); then skip "$id" "$scen" "$target" "skipped: time budget spent"; return 0; fi
  if ((warm > 0)); then
    timeout $((warm + 30)) "$BIN/s3put" -bucket "$S3_BLOB" -prefix "anchor-$STAMP/$id-warm/" "$@" -duration "${warm}s" -n 0 \
      >/dev/null 2>>"$OUT/loadgen.log" || true
  fi
  settle drop
  log "measure $id: $scen — $target"
  res=$(timeout "$t" "$BIN/s3put" -bucket "$S3_BLOB" -prefix "anchor-$STAMP/$id/" -label "$id" -seed "$SEED" "$@" \
    2>>"$OUT/loadgen.log") || rc=$?
  if [[ $rc -ne 0 || -z "$res" ]]; then
    emit "$id" "$scen" "$target" -1 loadgen "${res:-null}" "s3put exit $rc"
    log "  FAILED (exit $rc)"
  else
    emit "$id" "$scen" "$target" -1 loadgen "$res" "direct presigned PUTs, one key each, not read back"
    log "  $(jq -r '"\(.mb_s) MB/s, \(.ops_s) ops/s, ok \(.ops) failed \(.ops_failed)"' <<<"$res")"
  fi
}

# Downloads: a fresh server, the fixture uploaded through its own API
# (rawsink POST /upload, attachment POST {prefix}/), fetched once with curl to
# check its sha256 (this also warms the page cache), then sync + settle.
# Sets DL_URL (absolute) or returns 1.
dl_prepare() { # server fixture
  local server=$1 fix=$2 out code loc got
  start_server "$server"
  out=$(curl -sS --noproxy '*' -m 120 -o /dev/null -w '%{http_code} %header{location}' -X POST \
    -H 'Expect:' -H 'Content-Type: application/octet-stream' \
    -H "Content-Disposition: attachment; filename=\"$(basename "$fix").bin\"" \
    -T - "$(upload_url "$server")" <"$fix") || return 1 # -T -: stdin, so curl appends no file name to the URL
  code=${out%% *}
  loc=${out#* }
  [[ "$code" == 201 && "$loc" == /* ]] || { log "upload of $fix to $server: status $code, location '$loc'"; return 1; }
  DL_URL="http://$HOST:$( [[ $server == att ]] && echo $ATT_PORT || echo $RAW_PORT)$loc"
  got=$(curl -sS --noproxy '*' -m 120 "$DL_URL" | sha256sum | cut -d' ' -f1)
  [[ "$got" == "$(cat "$fix.sha256")" ]] || { log "download check of $DL_URL: sha256 $got"; return 1; }
  DL_NOTE="fixture uploaded, 1 GET checked (sha256 ok)"
  settle
}

# measure_get ID SCENARIO TARGET SERVER FIXTURE TIMEOUT -- loadgen flags
measure_get() {
  local id=$1 scen=$2 target=$3 server=$4 fix=$5 tmo=$6
  shift 7
  local t res rc=0
  t=$(budget "$tmo")
  if ((t < 15)); then skip "$id" "$scen" "$target" "skipped: time budget spent"; return 0; fi
  if ! dl_prepare "$server" "$fix"; then
    stop_server
    emit "$id" "$scen" "$target" "$HWM" loadgen null "fixture upload or check failed"
    return 0
  fi
  log "measure $id: $scen — $target"
  res=$(timeout "$t" "$BIN/loadgen" -mode get -urls "$DL_URL" -label "$id" -server-pid "$SERVER_PID" \
    -max-time "$((t - 5))s" "$@" 2>>"$OUT/loadgen.log") || rc=$?
  stop_server
  if [[ $rc -eq 0 && -n "$res" ]]; then
    emit "$id" "$scen" "$target" "$HWM" loadgen "$res" "$DL_NOTE"
    log "  $(jq -r '"\(.mb_s) MB/s, \(.ops) GETs ok, \(.ops_failed) failed"' <<<"$res")"
  else
    emit "$id" "$scen" "$target" "$HWM" loadgen null "loadgen exit $rc"
  fi
}

# measure_wrk ID SCENARIO TARGET SERVER FIXTURE
measure_wrk() {
  local id=$1 scen=$2 target=$3 server=$4 fix=$5
  local t rc=0 c0 c1 res
  t=$(budget $((WRK_S + 30)))
  if ((t < WRK_S + 10)); then skip "$id" "$scen" "$target" "skipped: time budget spent"; return 0; fi
  if ! dl_prepare "$server" "$fix"; then
    stop_server
    emit "$id" "$scen" "$target" "$HWM" wrk null "fixture upload or check failed"
    return 0
  fi
  log "measure $id: $scen — $target"
  c0=$(cpu_snap)
  timeout "$t" wrk -t2 -c32 -d"${WRK_S}s" --latency "$DL_URL" >"$OUT/wrk-$id.txt" 2>&1 || rc=$?
  c1=$(cpu_snap)
  stop_server
  res=$("$BIN/report" wrk2json <"$OUT/wrk-$id.txt")
  emit "$id" "$scen" "$target" "$HWM" wrk "$res" \
    "$DL_NOTE$([[ $rc -eq 0 ]] || echo "; wrk exit $rc")" "\"cpu\":$(cpu_json "$c0" "$c1")"
  log "  $(jq -r '"\(.req_s) req/s, errors \(.errors)"' <<<"$res")"
}

# ---------------------------------------------------------------------------
# 3. Environment

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
{
  echo "## Environment"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)$([[ $QUICK == 1 ]] && echo " — QUICK run (BENCH_QUICK=1): smaller sizes, not for figures")"
  echo "- library: $LIB_DESC"
  echo "- kernel: $(uname -sr)"
  echo "- cpu: $(awk -F: '/^model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo), $(nproc) cores; sha_ni: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no)"
  echo "- memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); vm.dirty_background_ratio=$(cat /proc/sys/vm/dirty_background_ratio) vm.dirty_ratio=$(cat /proc/sys/vm/dirty_ratio)"
  echo "- data dir fs: $(df -hT "$WORK" | awk 'NR==2 {print $2 " on " $1 ", " $5 " used"}')"
  echo "- $(go version)"
  echo "- tusd: $TUSD_VERSION (go install, filestore), flags: -verbose=false -show-startup-logs=false -shutdown-timeout 2s"
  echo "- attachment-server: examples/server -blob 'file://DATA/blobs?create_dir=1&no_tmp_dir=1&metadata=skip' -meta sqlite://DATA/meta.db -max-size $MAX_SIZE"
  echo "- wrk: $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "- load average at start: $(loadavg)"
  pagecache_probe
  echo "- seed: $SEED; settle: ${SETTLE_S} s; page cache dropped before upload rows: $([[ $DROP_CACHES == 1 && -w /proc/sys/vm/drop_caches ]] && echo yes || echo no); results: $OUT"
} >"$OUT/env.md"

: >"$RESULTS"
log "results go to $OUT"

# ---------------------------------------------------------------------------
# 4. Big uploads

ST=$((SMALL_S + SMALL_WARM + 90))
if [[ "$ONLY_S3" != 1 ]]; then

S1="upload $(hs "$BIG"), c=1, n=$BIG_N"
measure up1g-raw "$S1" "rawsink raw POST" rawsink 150 0 -- -mode raw -size $BIG -n $BIG_N -c 1 -verify
measure up1g-tus "$S1" "tusd filestore (POST + 1 PATCH)" tusd 150 0 -- -mode tus -size $BIG -n $BIG_N -c 1 -verify
measure up1g-att-raw "$S1" "attachment raw POST" att 150 0 -- -mode raw -size $BIG -n $BIG_N -c 1 -verify
measure up1g-mp "$S1" "rawsink multipart (field files)" rawsink 150 0 -- -mode multipart -size $BIG -n $BIG_N -c 1 -verify
measure up1g-att-mp "$S1" "attachment multipart (field files)" att 150 0 -- -mode multipart -size $BIG -n $BIG_N -c 1 -verify

S1M="upload 1 MiB, c=1, n=$ONE_N (peak RSS)"
measure up1m-att-raw "$S1M" "attachment raw POST" att 60 0 -- -mode raw -size 1MiB -n $ONE_N -c 1 -verify
measure up1m-att-mp "$S1M" "attachment multipart (field files)" att 60 0 -- -mode multipart -size 1MiB -n $ONE_N -c 1 -verify

S2="upload $(hs "$MID"), c=4, n=$MID_N"
measure up64m-raw "$S2" "rawsink raw POST" rawsink 150 0 -- -mode raw -size $MID -n $MID_N -c 4 -verify
measure up64m-tus "$S2" "tusd filestore (POST + 1 PATCH)" tusd 150 0 -- -mode tus -size $MID -n $MID_N -c 4 -verify
measure up64m-att-raw "$S2" "attachment raw POST" att 150 0 -- -mode raw -size $MID -n $MID_N -c 4 -verify
measure up64m-att-mp "$S2" "attachment multipart (extra)" att 150 0 -- -mode multipart -size $MID -n $MID_N -c 4 -verify

# ---------------------------------------------------------------------------
# 5. Small uploads (tusd last: its lock-file churn leaves freed inodes behind)

inode_quiet
ROW_NOTE="$QUIET_NOTE"
S3ROW="upload 4 KiB, c=16, ${SMALL_S} s (after ${SMALL_WARM} s warm-up)"
measure up4k-raw "$S3ROW" "rawsink raw POST" rawsink $ST $SMALL_WARM -- -mode raw -size 4KiB -c 16 -duration ${SMALL_S}s -verify
measure up4k-att-raw "$S3ROW" "attachment raw POST (SQLite record committed)" att $ST $SMALL_WARM -- -mode raw -size 4KiB -c 16 -duration ${SMALL_S}s -verify
measure up4k-att-mp "$S3ROW" "attachment multipart (SQLite record committed)" att $ST $SMALL_WARM -- -mode multipart -size 4KiB -c 16 -duration ${SMALL_S}s -verify
measure up4k-tus "$S3ROW" "tusd filestore (2 requests per upload)" tusd $ST $SMALL_WARM -- -mode tus -size 4KiB -c 16 -duration ${SMALL_S}s -verify
ROW_NOTE=""

# ---------------------------------------------------------------------------
# 6. Downloads

mkdir -p "$FIX"
for spec in "256MiB dl-256m" "4KiB dl-4k"; do
  set -- $spec
  "$BIN/loadgen" -mode gen -size "$1" -seed "$SEED" -out "$FIX/$2"
  sha256sum "$FIX/$2" | cut -d' ' -f1 >"$FIX/$2.sha256"
done

S4="download 256 MiB file, c=1, n=$DL_N"
measure_get dl256m "$S4" "rawsink ServeFile; client: loadgen get" rawsink "$FIX/dl-256m" 120 -- -n $DL_N -c 1
measure_get dl256m-att "$S4" "attachment GET {prefix}/{id}; client: loadgen get" att "$FIX/dl-256m" 120 -- -n $DL_N -c 1

S5="download 4 KiB file, wrk -t2 -c32 -d${WRK_S}s"
measure_wrk dl4k-wrk "$S5" "rawsink ServeFile; client: wrk" rawsink "$FIX/dl-4k"
measure_wrk dl4k-att-wrk "$S5" "attachment GET {prefix}/{id}; client: wrk" att "$FIX/dl-4k"
fi # ONLY_S3

# ---------------------------------------------------------------------------
# 7. S3 (versitygw on loopback) + PostgreSQL (.ci/services: fsync off)

if [[ "$S3" == 1 ]]; then
  SERVICES="$WORK/services"
  log "starting PostgreSQL and versitygw (.ci/services start $SERVICES)"
  if env_out=$("$REPO/.ci/services" start "$SERVICES" 2>>"$OUT/services.log"); then
    eval "$env_out"
    S3_BLOB="$ATTACHMENT_TEST_S3_URL"
    PG_ADMIN="${ATTACHMENT_TEST_POSTGRES_URL%/*}"
    PSQL="$(cat "$SERVICES/pg.bin")/psql"
    echo "- S3 rows: versitygw $(cat /tmp/attachment-ci-bin/versitygw.version 2>/dev/null || echo '?') (posix backend, $SERVICES) and PostgreSQL $("$PSQL" --version | awk '{print $3}') with fsync off, both on loopback, started by .ci/services; anchor: bench/s3put, presigned PUTs of the same sizes, one key each" >>"$OUT/env.md"
    S6="upload $(hs "$S3BIG") to S3, c=1, n=$S3BIG_N"
    measure_put s3big-put "$S6" "direct presigned PUT to versitygw (bench/s3put)" 150 0 -- -size $S3BIG -n $S3BIG_N -c 1
    measure s3big-att-raw "$S6" "attachment raw POST (s3 + postgres)" att-s3 150 0 -- -mode raw -size $S3BIG -n $S3BIG_N -c 1 -verify
    measure s3big-att-mp "$S6" "attachment multipart (s3 + postgres)" att-s3 150 0 -- -mode multipart -size $S3BIG -n $S3BIG_N -c 1 -verify
    S7="upload 4 KiB to S3, c=16, ${SMALL_S} s (after ${SMALL_WARM} s warm-up)"
    measure_put s34k-put "$S7" "direct presigned PUTs to versitygw (bench/s3put)" $ST $SMALL_WARM -- -size 4KiB -c 16 -duration ${SMALL_S}s
    measure s34k-att-raw "$S7" "attachment raw POST (s3 + postgres, record committed)" att-s3 $ST $SMALL_WARM -- -mode raw -size 4KiB -c 16 -duration ${SMALL_S}s -verify
  else
    log "SKIP the S3 rows: .ci/services did not start (see $OUT/services.log)"
    for r in s3big-put s3big-att-raw s3big-att-mp s34k-put s34k-att-raw; do skip "$r" "S3" "-" ".ci/services did not start"; done
  fi
fi

# ---------------------------------------------------------------------------
# 8. Report

mass_delete
{
  [[ -n "$WAITED" ]] && echo "- waited $WAITED s before the small-file uploads (inode reuse delay, see ../shared/bench/README.md)"
  [[ -n "$QUIET_NOTE" ]] && echo "- $QUIET_NOTE"
  echo "- load average at end: $(loadavg)"
} >>"$OUT/env.md"

# goals: one markdown row per goal, from results.jsonl.
goals() {
  jq -rs --arg big "$(hs "$BIG")" --arg mid "$(hs "$MID")" --arg s3big "$(hs "$S3BIG")" '
    def row(id): (map(select(.id == id)) | first) // {};
    def lg(id): row(id).loadgen // null;
    def ratio(a; b): if (a == null or b == null or b == 0) then null else (a / b) end;
    def fmt(x): if x == null then "n/a" else ((x * 100 | floor) / 100 | tostring) + "x" end; # truncated: a shown ratio never reaches a goal it misses
    def mib(k): if (k == null or k <= 0) then null else (k / 1024 * 10 | round) / 10 end;
    def met(r; goal; ge): if r == null then "n/a" elif (if ge then r >= goal else r <= goal end) then "met" else "**not met**" end;
    def mbs(id): lg(id).mb_s;
    def ops(id): lg(id).ops_s;
    def wrk(id): row(id).wrk.req_s;
    def hwm(id): (row(id).server_vmhwm_kib // -1) as $a | (lg(id).server_vmhwm_kib_after_timed // -1) as $b | ([$a, $b] | max);
    (ratio(mbs("up1g-att-raw"); mbs("up1g-tus"))) as $g1 |
    (ratio(mbs("up1g-att-mp"); mbs("up1g-att-raw"))) as $g2 |
    ([hwm("up1g-att-raw"), hwm("up1g-att-mp")] | max | mib(.)) as $g3a |
    ([hwm("up1m-att-raw"), hwm("up1m-att-mp")] | max | mib(.)) as $g3b |
    (ratio(ops("up4k-att-raw"); ops("up4k-tus"))) as $g5r |
    (ratio(ops("up4k-att-mp"); ops("up4k-tus"))) as $g5m |
    (ratio(mbs("dl256m-att"); mbs("dl256m"))) as $g6 |
    (ratio(wrk("dl4k-att-wrk"); wrk("dl4k-wrk"))) as $g7 |
    (ratio(mbs("s3big-att-raw"); mbs("s3big-put"))) as $s1r |
    (ratio(mbs("s3big-att-mp"); mbs("s3big-put"))) as $s1m |
    ([hwm("s3big-att-raw"), hwm("s3big-att-mp")] | max | mib(.)) as $s2 |
    (ratio(ops("s34k-att-raw"); ops("s34k-put"))) as $s3 |
    "| goal | measured | target | status |",
    "|---|---:|---:|---|",
    "| \($big) raw upload c=1: attachment / tusd MB/s | \(fmt($g1)) (\(mbs("up1g-att-raw")) / \(mbs("up1g-tus")) MB/s) | >= 1.0x | \(met($g1; 1.0; true)) |",
    "| \($big) multipart c=1: attachment multipart / attachment raw MB/s | \(fmt($g2)) (\(mbs("up1g-att-mp")) / \(mbs("up1g-att-raw")) MB/s) | >= 0.9x | \(met($g2; 0.9; true)) |",
    "| peak RSS, \($big) uploads (raw, multipart) | \($g3a // "n/a") MiB | <= 64 MiB | \(met($g3a; 64; false)) |",
    "| peak RSS, 1 MiB uploads (raw, multipart) | \($g3b // "n/a") MiB | <= 64 MiB | \(met($g3b; 64; false)) |",
    "| 4 KiB uploads c=16, records committed: attachment raw / tusd uploads/s | \(fmt($g5r)) (\(ops("up4k-att-raw")) / \(ops("up4k-tus"))) | >= 3x | \(met($g5r; 3; true)) |",
    "| 4 KiB uploads c=16, records committed: attachment multipart / tusd uploads/s | \(fmt($g5m)) (\(ops("up4k-att-mp")) / \(ops("up4k-tus"))) | >= 3x | \(met($g5m; 3; true)) |",
    "| 256 MiB download c=1: attachment / ServeFile MB/s | \(fmt($g6)) (\(mbs("dl256m-att")) / \(mbs("dl256m")) MB/s) | >= 0.8x | \(met($g6; 0.8; true)) |",
    "| 4 KiB downloads, wrk -c32: attachment / ServeFile req/s | \(fmt($g7)) (\(wrk("dl4k-att-wrk")) / \(wrk("dl4k-wrk")) req/s) | >= 0.8x | \(met($g7; 0.8; true)) |",
    "| \($s3big) to S3 + PostgreSQL c=1: attachment raw / direct PUT MB/s | \(fmt($s1r)) (\(mbs("s3big-att-raw")) / \(mbs("s3big-put")) MB/s) | >= 0.9x | \(met($s1r; 0.9; true)) |",
    "| \($s3big) to S3 + PostgreSQL c=1: attachment multipart / direct PUT MB/s | \(fmt($s1m)) (\(mbs("s3big-att-mp")) / \(mbs("s3big-put")) MB/s) | >= 0.9x | \(met($s1m; 0.9; true)) |",
    "| peak RSS, \($s3big) uploads to S3 (raw, multipart) | \($s2 // "n/a") MiB | <= 64 MiB | \(met($s2; 64; false)) |",
    "| 4 KiB uploads to S3 + PostgreSQL c=16: attachment raw / direct PUT uploads/s | \(fmt($s3)) (\(ops("s34k-att-raw")) / \(ops("s34k-put"))) | >= 0.8x | \(met($s3; 0.8; true)) |",
    "",
    "Other ratios (no target): \($big) attachment raw / rawsink raw \(fmt(ratio(mbs("up1g-att-raw"); mbs("up1g-raw")))); \($big) attachment multipart / rawsink multipart \(fmt(ratio(mbs("up1g-att-mp"); mbs("up1g-mp")))); \($mid) c=4 attachment raw / tusd \(fmt(ratio(mbs("up64m-att-raw"); mbs("up64m-tus")))), / rawsink raw \(fmt(ratio(mbs("up64m-att-raw"); mbs("up64m-raw")))); 4 KiB attachment raw / rawsink raw \(fmt(ratio(ops("up4k-att-raw"); ops("up4k-raw")))).",
    "",
    ( [ .[] | select(.loadgen != null and .loadgen.verify != null) ] as $up
      | [ $up[] | select(.loadgen.verify.ok != .loadgen.verify.total or .loadgen.verify.total == 0 or .loadgen.verify.server_sha_mismatch > 0 or .loadgen.ops_failed > 0) | .id ] as $bad
      | [ .[] | select(.loadgen == null and .wrk == null) | .id ] as $missing
      | [ .[] | select(.wrk != null and ((.wrk.errors // {}) | length) > 0) | .id ] as $wrkerr
      | "Verification: \($up | length) upload rows, \($up | map(.loadgen.verify.ok) | add // 0) uploads downloaded back and compared (sha256); "
        + (if ($bad | length) == 0 then "all ok, no failed operation" else "PROBLEMS in \($bad | join(", "))" end)
        + (if ($missing | length) > 0 then "; rows without a result: \($missing | join(", "))" else "" end)
        + (if ($wrkerr | length) > 0 then "; wrk errors in \($wrkerr | join(", "))" else "" end)
        + ". Download fixtures were uploaded through each server and checked by sha256 before timing." )
  ' "$RESULTS"
}

{
  echo "# attachment vs anchors — $STAMP"
  echo
  cat "$OUT/env.md"
  echo
  echo "## Transfers"
  echo
  "$BIN/report" table "$RESULTS"
  echo
  echo "## Goals (ratios measured in this run)"
  echo
  goals
  echo
  echo "Total time: ${SECONDS}s"
} >"$OUT/report.md"
cat "$OUT/report.md"
log "done in ${SECONDS}s; report: $OUT/report.md"
