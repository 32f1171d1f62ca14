#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes a real Prometheus server available for the model-server → Prometheus →
# DemandSource test (test/unit/demand/). Uses Debian's `prometheus` package; installs it when missing and we
# are root. Exports CARBONSCALE_PROMETHEUS (the binary). Idempotent and quick once installed.
cs_find_prometheus() {
  if [ -n "${CARBONSCALE_PROMETHEUS:-}" ] && [ -x "$CARBONSCALE_PROMETHEUS" ]; then return 0; fi
  local p
  for p in /usr/bin/prometheus "$(command -v prometheus 2>/dev/null || true)"; do
    if [ -n "$p" ] && [ -x "$p" ]; then export CARBONSCALE_PROMETHEUS="$p"; return 0; fi
  done
  return 1
}
if ! cs_find_prometheus; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    cs_log "installing Debian's prometheus package (apt-get, ~1 min cold) for the demand tests"
    # The package's postinst tries to start a system service; no init system here, so stop that cleanly.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.carbonscale
    if [ ! -e /usr/sbin/policy-rc.d ]; then cp /usr/sbin/policy-rc.d.carbonscale /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; cs_rm_policy=1; fi
    rm -f /usr/sbin/policy-rc.d.carbonscale
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } ||
      cs_log "apt-get install prometheus failed; the Prometheus demand test will fail with a clear message"
    if [ "${cs_rm_policy:-0}" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    unset cs_rm_policy
  else
    cs_log "prometheus not found and cannot install it (need root and apt-get); set CARBONSCALE_PROMETHEUS"
  fi
  cs_find_prometheus || true
fi
[ -n "${CARBONSCALE_PROMETHEUS:-}" ] && cs_log "prometheus: $CARBONSCALE_PROMETHEUS"
true
