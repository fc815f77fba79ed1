#!/usr/bin/env bash
# Screenshots of the HTML reports at 1400 and 800 px, and a check, made by the
# browser, that nothing is cut off: the page is no wider than the window, and
# every table and chart fits in the window or scrolls inside its own box.
#
#   scripts/screenshots.sh [OUT_DIR]      (default: target/screenshots)
#
# Needs headless Chromium (Debian: apt-get install -y chromium). The committed
# reports (reports/reference/*.json) are rendered afresh with the current code into
# OUT_DIR first, so the check covers the pages as the code writes them now.
# Exits 1 when a page fails the check, naming the page, width and element.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/screenshots}
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$browser" ]; then
    echo "error: no Chromium found (apt-get install -y chromium, or set CHROMIUM)" >&2
    exit 2
fi
mkdir -p "$out"
out=$(realpath "$out")
cp reports/reference/*.json "$out"/
cargo run --quiet --example render_reports -- "$out" >/dev/null

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chrome() {
    "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@" 2>/dev/null
}

# Appended to a copy of each page (no & in it: bash replacement below): measures the layout and writes the verdict
# into the DOM, which --dump-dom prints.
check='<script>
addEventListener("load", () => {
  const w = innerWidth, bad = [];
  if (document.documentElement.scrollWidth > w)
    bad.push("page " + document.documentElement.scrollWidth + "px wide");
  for (const el of document.querySelectorAll("table, svg:not(.icon), pre")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const name = el.tagName.toLowerCase() + "#" + [...document.querySelectorAll(el.tagName)].indexOf(el);
    if (r.right > w + 0.5) bad.push(name + " ends at " + Math.round(r.right) + "px");
    if (el.scrollWidth > el.clientWidth + 1) {
      const o = getComputedStyle(el).overflowX;
      if (!/^(auto|scroll)$/.test(o)) bad.push(name + " is cut off (overflow " + o + ")");
    }
  }
  document.body.setAttribute("data-layout", bad.length ? bad.join("; ") : "ok");
});
</script>'

status=0
for page in "$out"/*.html; do
    name=$(basename "$page" .html)
    case "$name" in *.check) continue ;; esac
    probe="$out/$name.check.html"
    html=$(cat "$page")
    printf '%s\n' "${html/<\/body>/$check</body>}" >"$probe"
    for width in 1400 800; do
        chrome --window-size="$width,2200" --screenshot="$out/$name-$width.png" "file://$page" >/dev/null
        verdict=$(chrome --window-size="$width,2200" --virtual-time-budget=2000 --dump-dom "file://$probe" |
            grep -o 'data-layout="[^"]*"' | head -1 || true)
        echo "$name @ ${width}px: ${verdict:-no answer from the browser}  ($out/$name-$width.png)"
        [ "$verdict" = 'data-layout="ok"' ] || status=1
    done
    rm -f "$probe"
done
exit $status
