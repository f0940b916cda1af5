#!/usr/bin/env bash
# The ingest regression guard: build `fairgate-bench` at two commits, run
# `fairgate-bench ingest` for each in alternation (A B A B ...), and print each
# run's ratio to bare SQLite, each commit's median, and the ratio of ratios (B/A).
# Alternating cancels most of what the machine does meanwhile; the ratio to the
# bare insert measured in the same run cancels the disk. A ratio of ratios under
# 0.95 is a slip worth a look before it lands; but on a 2-core machine single
# rounds spread by ±10 % and the same pair of commits gave 0.97 and 1.06 at five
# rounds (BENCHMARKS.md), so rerun a warning with more rounds before acting on it.
#
#   scripts/bench-guard.sh BASE HEAD [ROUNDS] [EVENTS]
#   e.g. scripts/bench-guard.sh origin/main HEAD 5 1000000
#
# Builds in target/guard (kept, so a second run is quick); uses worktrees under
# the system temp directory, removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/bench-guard.sh BASE HEAD [ROUNDS] [EVENTS]}
head=${2:?usage: scripts/bench-guard.sh BASE HEAD [ROUNDS] [EVENTS]}
rounds=${3:-5}
events=${4:-1000000}
root=$(pwd)
work=$(mktemp -d)
trap 'for w in "$work"/wt-*; do git -C "$root" worktree remove --force "$w" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
for side in a b; do
  rev=$([ $side = a ] && echo "$base" || echo "$head")
  git worktree add --detach "$work/wt-$side" "$rev" >/dev/null
  echo "building fairgate-bench at $rev ($(git rev-parse --short "$rev"))" >&2
  (cd "$work/wt-$side" && CARGO_TARGET_DIR="$root/target/guard" cargo build --release -q -p fairgate-bench)
  cp "$root/target/guard/release/fairgate-bench" "$work/bench-$side"
done
ratio() { "$work/bench-$1" ingest --events "$events" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ratio_to_baseline"])'; }
a=(); b=()
for i in $(seq "$rounds"); do
  ra=$(ratio a); rb=$(ratio b)
  echo "round $i: $base $ra   $head $rb"
  a+=("$ra"); b+=("$rb")
done
python3 - "$base" "$head" "${#a[@]}" "${a[@]}" "${b[@]}" <<'PY'
import statistics, sys
base, head, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
vals = [float(x) for x in sys.argv[4:]]
a, b = statistics.median(vals[:n]), statistics.median(vals[n:])
print(f"median ratio to bare SQLite: {base} {a:.3f}, {head} {b:.3f}; ratio of ratios {head}/{base} = {b / a:.3f}"
      + ("  (a slip, or noise: rerun with more rounds, then look before it lands)" if b / a < 0.95 else ""))
PY
