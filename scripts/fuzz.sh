#!/usr/bin/env bash
# Run every cargo-fuzz target (fuzz/Cargo.toml) over its corpus in fuzz/corpus/.
#
#   scripts/fuzz.sh smoke [SECONDS]   each target for SECONDS (default 60): CI's run
#   scripts/fuzz.sh long [RUNS]       each target for RUNS executions (default
#                                     10,000,000): the campaign RELIABILITY.md records
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Exits
# non-zero at the first target that crashes, leaks or times out; libFuzzer leaves
# the input in fuzz/artifacts/TARGET/. Prints one line per target: executions,
# seconds, executions per second, corpus size. Runs FUZZ_JOBS targets at once
# (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
mode=${1:-smoke}
case "$mode" in
  smoke) limit=(-max_total_time="${2:-60}") ;;
  long) limit=(-runs="${2:-10000000}") ;;
  *) echo "usage: scripts/fuzz.sh smoke [SECONDS] | long [RUNS]" >&2; exit 2 ;;
esac
targets=$(sed -n 's/^name = "\(.*\)"/\1/p' Cargo.toml | grep -v '^fairgate-fuzz$')
cargo +nightly fuzz build -O
# Targets run side by side, FUZZ_JOBS at a time (default: one per core), each still
# for its whole time or its whole count of runs.
jobs=${FUZZ_JOBS:-$(nproc)}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# One target: its log in $logs/T.log, its summary line in $logs/T.ok.
one() {
  local t=$1 start secs runs
  mkdir -p "corpus/$t"
  start=$(date +%s)
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" -- "${limit[@]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$logs/$t.log" 2>&1; then
    return 1
  fi
  secs=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  echo "fuzz: $t ok: ${runs:-?} executions in ${secs} s ($(( ${runs:-0} / (secs > 0 ? secs : 1) ))/s), corpus $(ls "corpus/$t" | wc -l) inputs" >"$logs/$t.ok"
}
declare -A running=()
# Wait for one target to end; on a failure, show it and stop.
reap() {
  local pid t
  wait -n -p pid || true
  t=${running[$pid]}
  unset "running[$pid]"
  if [ -f "$logs/$t.ok" ]; then
    cat "$logs/$t.ok"
  else
    tail -40 "$logs/$t.log"
    echo "fuzz: $t FAILED (the input is in fuzz/artifacts/$t/)" >&2
    kill "${!running[@]}" 2>/dev/null || true
    exit 1
  fi
}
for t in $targets; do
  while [ "${#running[@]}" -ge "$jobs" ]; do reap; done
  one "$t" &
  running[$!]=$t
done
while [ "${#running[@]}" -gt 0 ]; do reap; done
