#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes a headless Chromium available for the browser test of `audit report --html`
# (test/unit/audit/report-html-browser.test.ts, driven by playwright-core, which never downloads a browser of its
# own). Uses Debian's `chromium` package; installs it when missing and we are root. Exports CARBONSCALE_CHROMIUM
# (the binary). Idempotent and quick once installed.
cs_find_chromium() {
  if [ -n "${CARBONSCALE_CHROMIUM:-}" ] && [ -x "$CARBONSCALE_CHROMIUM" ]; then return 0; fi
  local p
  for p in /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
    if [ -n "$p" ] && [ -x "$p" ]; then export CARBONSCALE_CHROMIUM="$p"; return 0; fi
  done
  return 1
}
if ! cs_find_chromium; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    cs_log "installing Debian's chromium package (apt-get, ~1-2 min cold) for the audit report browser test"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } ||
      cs_log "apt-get install chromium failed; the report browser test will fail with a clear message"
  else
    cs_log "chromium not found and cannot install it (need root and apt-get); set CARBONSCALE_CHROMIUM"
  fi
  cs_find_chromium || true
fi
[ -n "${CARBONSCALE_CHROMIUM:-}" ] && cs_log "chromium: $CARBONSCALE_CHROMIUM"
true
