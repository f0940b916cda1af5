#!/bin/sh
# Vendor the U.S. Web Design System's compiled assets into the server crate, so the
# web desks fetch nothing at run time: the minified stylesheet and scripts, the icon
# sprite, and exactly the fonts and images the stylesheet refers to, with the
# package's licence. Run from the repository root; commit the result.
#   scripts/vendor-uswds.sh [VERSION]   (default 3.14.0)
set -eu
VERSION=${1:-3.14.0}
OUT=crates/fairgate-server/assets/uswds
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "@uswds/uswds@$VERSION" >/dev/null && tar xzf uswds-uswds-*.tgz)
PKG="$WORK/package"
rm -rf "$OUT"
mkdir -p "$OUT/css" "$OUT/js" "$OUT/img"
cp "$PKG/dist/css/uswds.min.css" "$OUT/css/"
cp "$PKG/dist/js/uswds.min.js" "$PKG/dist/js/uswds-init.min.js" "$OUT/js/"
cp "$PKG/dist/img/sprite.svg" "$OUT/img/"
cp "$PKG/LICENSE.md" "$OUT/LICENSE.md"
# Every font and image the stylesheet names, at the same relative path.
grep -o 'url([^)]*)' "$PKG/dist/css/uswds.min.css" | sed 's/^url(//; s/)$//; s/"//g' | grep '^\.\./' | sort -u |
while read -r rel; do
    path=${rel#../}
    mkdir -p "$OUT/$(dirname "$path")"
    cp "$PKG/dist/$path" "$OUT/$path"
done
echo "$VERSION" > "$OUT/VERSION"
du -sh "$OUT"
