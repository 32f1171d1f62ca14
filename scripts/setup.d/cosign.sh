#!/usr/bin/env bash
# Sourced by scripts/test.sh (or run: `bash scripts/setup.d/cosign.sh`): makes cosign available as the
# independent verifier of the attestation test (test/integration/attestation/independent-verifier.test.ts).
# cosign is built from Go modules (github.com/sigstore/cosign/v2/cmd/cosign at a pinned version, through the module
# proxy) into $CARBONSCALE_CACHE/cosign-bin/<version>/, cached by version like scripts/build-k8s-binaries.sh.
# A cold build takes several minutes of both cores (docs/development.md), more than the CI time budget has left, so
# when the binary is not cached this script builds it only when asked (CARBONSCALE_BUILD_COSIGN=1, or when run
# directly); otherwise the test verifies with securesystemslib alone and reports the cosign checks as skipped.
# Exports CARBONSCALE_COSIGN (the binary) when it exists.
COSIGN_VERSION="${COSIGN_VERSION:-v2.6.5}"
cs_cosign_log() { if declare -F cs_log >/dev/null; then cs_log "$@"; else printf '[cosign %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; fi; }
cs_cosign_dir="${CARBONSCALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscale}/cosign-bin/$COSIGN_VERSION"
cs_cosign_build() {
  command -v go >/dev/null || { cs_cosign_log "go is required to build cosign"; return 1; }
  local work="$cs_cosign_dir.build" start=$SECONDS
  mkdir -p "$work"
  cs_cosign_log "building cosign $COSIGN_VERSION from Go modules (cold: several minutes on 2 cores; cached afterwards)"
  ( while sleep 60; do cs_cosign_log "… still building cosign ($(( (SECONDS-start)/60 )) min)"; done ) &
  local hb=$! rc=0
  ( cd "$work" && CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}" GOBIN="$work/bin" go install -trimpath \
      -ldflags "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION" \
      "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" ) || rc=$?
  kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
  if [ $rc -ne 0 ]; then cs_cosign_log "FAILED building cosign (exit $rc)"; return $rc; fi
  mkdir -p "$cs_cosign_dir" && mv "$work/bin/cosign" "$cs_cosign_dir/cosign" && rm -rf "$work"
  cs_cosign_log "built cosign $COSIGN_VERSION in $(( SECONDS-start )) s"
}
if [ ! -x "$cs_cosign_dir/cosign" ]; then
  if [ "${CARBONSCALE_BUILD_COSIGN:-0}" = 1 ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
    cs_cosign_build || true
  else
    cs_cosign_log "cosign $COSIGN_VERSION not built: the attestation test checks with securesystemslib only (build it: bash scripts/setup.d/cosign.sh)"
  fi
fi
if [ -x "$cs_cosign_dir/cosign" ]; then export CARBONSCALE_COSIGN="$cs_cosign_dir/cosign"; cs_cosign_log "cosign: $CARBONSCALE_COSIGN"; fi
unset cs_cosign_dir
true
