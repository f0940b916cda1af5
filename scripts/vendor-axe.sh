#!/usr/bin/env bash
# Vendor axe-core's browser build and its licences into the browser tests' fixtures.
# Usage: scripts/vendor-axe.sh [VERSION]   (default: the version in the fixtures)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/crates/fairgate-server/tests/fixtures/axe"
version="${1:-$(cat "$dest/VERSION")}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf axe-core-*.tgz)
cp "$work/package/axe.min.js" "$work/package/LICENSE" "$work/package/LICENSE-3RD-PARTY.txt" "$dest/"
echo "$version" > "$dest/VERSION"
echo "axe-core $version vendored into $dest"
