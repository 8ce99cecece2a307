#!/bin/sh
# Makes the two forms of the Convious pricing browser library from its one
# source (web/analytics/analytics.js, an ES module) and the C file that embeds
# them in the server (src/api/convious_pricing/library.c serves them):
#   OUT/analytics.mjs    the module, import.meta.url telling it where it came from
#   OUT/analytics.js     a classic script defining the global conviousPricing
#   OUT/analytics_js.c   both, each also gzipped, with their ETags
# Comment lines and indentation go: gzip cannot make comments free, and the
# library must stay under 5 kB gzipped (tests/js/analytics.test.js checks).
# Only POSIX sh, sed, od, gzip and sha256sum (coreutils): no JavaScript tooling.
set -eu
SRC=$1
OUT=$2
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ "$(grep -c '^const loadedFrom = ' "$SRC")" = 1 ] || { echo "$SRC: no single loadedFrom line" >&2; exit 1; }
[ "$(grep -c '^export {$' "$SRC")" = 1 ] || { echo "$SRC: no single 'export {' line" >&2; exit 1; }

sed -e '/^[[:space:]]*\/\//d' -e 's/^[[:space:]]*//' -e '/^$/d' "$SRC" > "$TMP/body.js"

sed -e 's/^const loadedFrom = .*/const loadedFrom = import.meta.url;/' "$TMP/body.js" > "$TMP/analytics.mjs"

{
    echo '(function (root) {'
    echo "'use strict';"
    # a page that includes the script twice keeps the first copy's queue
    sed -e 's/^export {$/root.conviousPricing = root.conviousPricing || {/' "$TMP/body.js"
    echo "})(typeof self !== 'undefined' ? self : this);"
} > "$TMP/analytics.js"

# bytes NAME FILE: a NUL-terminated C array, its length and its ETag
bytes() {
    echo "const unsigned char $1[] = {"
    od -An -v -tx1 "$2" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo '0x00};'
    echo "const unsigned long $1_len = sizeof $1 - 1;"
    echo "const char $1_etag[] = \"\\\"$(sha256sum "$2" | cut -c1-32)\\\"\";"
}

{
    echo "/* generated from $SRC by $0; do not edit */"
    for form in js mjs; do
        name=$( [ $form = js ] && echo analytics_classic || echo analytics_module )
        gzip -9nc "$TMP/analytics.$form" > "$TMP/analytics.$form.gz"
        bytes "$name" "$TMP/analytics.$form"
        bytes "${name}_gz" "$TMP/analytics.$form.gz"
    done
} > "$TMP/analytics_js.c"

for f in analytics.js analytics.mjs analytics_js.c; do mv "$TMP/$f" "$OUT/$f"; done
