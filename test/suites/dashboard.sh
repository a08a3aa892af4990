#!/usr/bin/env bash
# test/suites/dashboard.sh: obs.dashboard_html() in a real browser.
#
# Runs against the throwaway cluster test/run.sh started (PGHOST etc.
# exported).  Seeds a day of data (test/dashboard/seed.sql, with XSS
# payloads in flow, task, service and logger names, tags and messages),
# renders the page as a reader, then has headless Chromium (Debian's
# chromium, installed when missing) take a 1280x800 screenshot and dump the
# DOM.  test/dashboard/check.py asserts that the screenshot is not blank and
# that every panel is in the DOM, with no script and the payloads shown as
# text.  The screenshot is kept at /tmp/obs-dashboard.png (the whole page at
# /tmp/obs-dashboard-full.png).  OBS_DASHBOARD_README=1 also writes the
# README's dashboards/screenshot.png from the whole page.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
# check.py prints ok / not ok lines; count them
run_check() {
    local out
    out=$(python3 test/dashboard/check.py "$@" 2>&1)
    echo "$out"
    passed=$((passed + $(grep -c '^ok - ' <<<"$out")))
    failed=$((failed + $(grep -c '^not ok - ' <<<"$out")))
    grep -qE '^(ok|not ok) - ' <<<"$out" || failed=$((failed + 1))
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

if ! command -v chromium >/dev/null 2>&1; then
    echo "# installing chromium"
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1
fi
if command -v chromium >/dev/null 2>&1; then
    ok "chromium is installed ($(chromium --version 2>/dev/null | head -n 1))"
else
    not_ok "chromium is installed"
    finish
fi

work=$(mktemp -d /tmp/obs-dashboard.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -d obs_dashboard)
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS obs_dashboard" -c "CREATE DATABASE obs_dashboard" >/dev/null
psql -X -q -d postgres -c "DROP ROLE IF EXISTS obs_dashboard_reader" -c "CREATE ROLE obs_dashboard_reader" >/dev/null
if "${PSQL[@]}" -c "CREATE EXTENSION obs" -c "SET timezone = 'UTC'" -f test/dashboard/seed.sql >"$work/seed.out" 2>&1 &&
    "${PSQL[@]}" -c "SELECT obs.grant_reader('obs_dashboard_reader')" >/dev/null 2>&1; then
    ok "a day of flows, tasks, spans, metrics, alerts and logs is seeded"
else
    cat "$work/seed.out"; not_ok "a day of data is seeded"; finish
fi

# the page as a reader sees it, written the way the README says
if PGOPTIONS="$PGOPTIONS -c role=obs_dashboard_reader -c timezone=UTC" \
    "${PSQL[@]}" -c "SELECT obs.dashboard_html(now() - interval '1 day', now())" >"$work/dashboard.html" 2>"$work/psql.err" &&
    [ "$(wc -c <"$work/dashboard.html")" -gt 20000 ]; then
    ok "a reader gets the page ($(wc -c <"$work/dashboard.html") bytes)"
else
    cat "$work/psql.err"; not_ok "a reader gets the page"; finish
fi
run_check html "$work/dashboard.html"

chrome() {
    rm -rf "$work/profile" && mkdir "$work/profile"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --hide-scrollbars --user-data-dir="$work/profile" "$@" \
        "file://$work/dashboard.html" 2>>"$work/chromium.log"
}

if chrome --window-size=1280,800 --screenshot="$work/shot.png" >/dev/null && [ -s "$work/shot.png" ]; then
    cp "$work/shot.png" /tmp/obs-dashboard.png
    ok "chromium takes a 1280x800 screenshot: /tmp/obs-dashboard.png ($(wc -c </tmp/obs-dashboard.png) bytes)"
    run_check png /tmp/obs-dashboard.png 1280 800
else
    tail -n 20 "$work/chromium.log"; not_ok "chromium takes a screenshot"
fi

if chrome --virtual-time-budget=3000 --dump-dom >"$work/dom.html" && [ -s "$work/dom.html" ]; then
    ok "chromium dumps the DOM after load ($(wc -c <"$work/dom.html") bytes)"
    run_check dom "$work/dom.html"
else
    tail -n 20 "$work/chromium.log"; not_ok "chromium dumps the DOM"
fi

# the whole page, for people (and the README)
if chrome --window-size=1280,2400 --screenshot="$work/full.png" >/dev/null && [ -s "$work/full.png" ]; then
    cp "$work/full.png" /tmp/obs-dashboard-full.png
    ok "chromium takes a screenshot of the whole page: /tmp/obs-dashboard-full.png"
    if [ "${OBS_DASHBOARD_README:-0}" = 1 ]; then
        python3 test/dashboard/check.py crop /tmp/obs-dashboard-full.png dashboards/screenshot.png
    fi
else
    not_ok "chromium takes a screenshot of the whole page"
fi

psql -X -q -d postgres -c "DROP DATABASE obs_dashboard" -c "DROP ROLE obs_dashboard_reader" >/dev/null
finish
