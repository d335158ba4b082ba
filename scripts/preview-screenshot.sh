#!/usr/bin/env bash
# Renders a `--preview` page with headless Chromium to a PNG, to look at what a reader sees.
#
#   scripts/preview-screenshot.sh FILE.html OUT.png [WIDTH,HEIGHT]
#
# Needs Debian's `chromium` (`apt-get install chromium`; CHROMIUM=/path overrides). The browser
# runs with a throwaway profile and no network features: the page is self-contained, and a
# request it made would be a bug (its Content-Security-Policy blocks them anyway).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 FILE.html OUT.png [WIDTH,HEIGHT]" >&2
    exit 2
fi
page=$1
out=$2
size=${3:-1200,2400}
chromium=${CHROMIUM:-/usr/bin/chromium}

if [[ ! -f $page ]]; then
    echo "error: no such file: \`$page\`" >&2
    exit 1
fi
if [[ ! -x $chromium ]]; then
    echo "error: \`$chromium\` not found" >&2
    echo "hint: apt-get install -y chromium, or set CHROMIUM" >&2
    exit 1
fi

page_url="file://$(realpath "$page")"
out_path="$(realpath -m "$out")"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# --screenshot writes the first WIDTH×HEIGHT pixels of the page; chromium's own chatter on
# stderr (GPU, D-Bus) is noise here, shown only when it fails.
if ! "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --window-size="$size" \
    --screenshot="$out_path" "$page_url" >"$profile/log" 2>&1; then
    cat "$profile/log" >&2
    echo "error: chromium could not render \`$page\`" >&2
    exit 1
fi
if [[ ! -s $out_path ]]; then
    cat "$profile/log" >&2
    echo "error: chromium wrote no screenshot to \`$out\`" >&2
    exit 1
fi
echo "$out"
