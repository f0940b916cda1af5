#!/usr/bin/env bash
# Schemathesis (PyPI) against a real `fairgate serve` over its own /openapi.json,
# once with each role's API token and each purpose the role may state (a role
# without purposes runs once without one), and once as a registrant signed in to
# the portal (the demo's sample traveller, activated here), over the /portal
# operations. Checks: no server error, and every response conforms to the
# document: its status code is documented, its content type and headers are, and
# its body matches the schema (problem+json included). The phases: examples,
# coverage, fuzzing, and stateful (sequences of calls that follow the document's
# links; SCHEMATHESIS_PHASES overrides the list). SCHEMATHESIS_ROLES names the
# staff roles to run as (default all six; empty for the registrant alone).
#
#   scripts/schemathesis.sh [MAX_EXAMPLES]     (default 20 per operation and run)
#
# Uses target/debug/fairgate unless FAIRGATE_BIN names another; needs
# `pip install schemathesis`. Reports go to target/schemathesis/. Exits non-zero
# when any run found a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${FAIRGATE_BIN:-target/debug/fairgate}
examples=${1:-20}
command -v schemathesis >/dev/null || { echo "schemathesis is not installed: pip install schemathesis" >&2; exit 2; }
[ -x "$bin" ] || { echo "$bin is missing: cargo build -p fairgate" >&2; exit 2; }
work=$(mktemp -d)
reports=target/schemathesis
mkdir -p "$reports"
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$bin" --data "$work/data" --keys "$work/keys" demo --travellers 200 >"$work/demo.txt"
RUST_LOG=warn "$bin" --data "$work/data" --keys "$work/keys" serve --listen 127.0.0.1:0 --rotate-days 0 \
  >"$work/serve.out" 2>"$reports/serve.log" &
server=$!
for _ in $(seq 600); do
  grep -q "Fairgate is serving on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^Fairgate is serving on \(http:[^ ]*\)\/ .*/\1/p' "$work/serve.out")
[ -n "$url" ] || { cat "$work/serve.out" "$reports/serve.log" >&2; echo "the server did not start" >&2; exit 1; }
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
phases=${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}
failed=0
runs=0
# One run: NAME, then the extra schemathesis arguments.
one() {
  local name=$1 ph=$phases
  shift
  # The portal's operations have no links between them: no stateful phase there.
  [ "$name" = registrant ] && ph=${phases//,stateful/}
  runs=$((runs + 1))
  if ! schemathesis run "$url/openapi.json" "$@" --checks "$checks" --max-examples "$examples" \
      --phases "$ph" --seed 21 --request-timeout 30 --no-color \
      --report junit --report-junit-path "$reports/$name.xml" >"$reports/$name.txt" 2>&1; then
    failed=$((failed + 1))
    tail -60 "$reports/$name.txt"
  else
    tail -3 "$reports/$name.txt"
  fi
}
for role in ${SCHEMATHESIS_ROLES-officer supervisor adjudicator auditor approver admin}; do
  token=$(awk -v a="demo-$role" '$1 == a {print $NF}' "$work/demo.txt")
  [ -n "$token" ] || { echo "no token for demo-$role in the demo's output" >&2; exit 1; }
  purposes=$(curl -fsS "$url/access-policy" | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(" ".join(next((r["purposes"] for r in p["purposes"] if r["role"] == sys.argv[1]), [])) or "-")' "$role")
  for purpose in $purposes; do
    args=(-H "Authorization: Bearer $token")
    [ "$purpose" != "-" ] && args+=(-H "Fairgate-Purpose: $purpose")
    echo "== schemathesis as $role, purpose $purpose"
    one "$role-$purpose" "${args[@]}"
  done
done
# The registrant: the demo's sample traveller, activated with a passphrase.
read -r number code < <(sed -n 's/.*registration \([^,]*\), access code \(.*\)$/\1 \2/p' "$work/demo.txt")
[ -n "${code:-}" ] || { echo "no portal sample in the demo's output" >&2; exit 1; }
ptoken=$(curl -fsS -X POST "$url/portal/activate" -H 'Content-Type: application/json' \
  -d "{\"registration_number\":\"$number\",\"access_code\":\"$code\",\"passphrase\":\"schemathesis passphrase\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
echo "== schemathesis as a registrant (the portal's operations)"
# Not the sign-in operations themselves: their answers are the same with or without
# a session, and a wrong passphrase there counts toward the sign-in limit.
one registrant -H "Authorization: Bearer $ptoken" --include-path-regex '^/portal/' \
  --exclude-path-regex '^/portal/(login|activate|web/)'
echo "schemathesis: $runs runs, $failed with failures (reports in $reports/)"
[ "$failed" -eq 0 ]
