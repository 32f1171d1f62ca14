#!/usr/bin/env bash
# Sourced by every entry script. Makes Node 24 LTS available (fetched from the npm registry into a cache
# when the system node is older), installs npm dependencies when package-lock.json changed, and exports
# CARBONSCALE_CACHE. Idempotent and quick on a warm machine.
set -euo pipefail
NODE_VERSION="24.21.0"
NODE_MIN_MAJOR=24; NODE_MIN_MINOR=18
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARBONSCALE_CACHE="${CARBONSCALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscale}"
mkdir -p "$CARBONSCALE_CACHE"

cs_log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

node_ok() {
  local v; v="$("$1" --version 2>/dev/null)" || return 1
  v="${v#v}"; local major="${v%%.*}"; local rest="${v#*.}"; local minor="${rest%%.*}"
  [ "$major" -gt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

ensure_node() {
  if command -v node >/dev/null && node_ok node; then return; fi
  local dir="$CARBONSCALE_CACHE/node-v$NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    local arch; case "$(uname -m)" in x86_64) arch=x64;; aarch64|arm64) arch=arm64;; *) cs_log "unsupported CPU $(uname -m)"; exit 1;; esac
    command -v npm >/dev/null || { cs_log "need npm (any version) to fetch Node $NODE_VERSION from the npm registry"; exit 1; }
    cs_log "system node is $(node --version 2>/dev/null || echo absent); fetching Node $NODE_VERSION (node-linux-$arch, ~50 MB, ~10 s) from the npm registry"
    local tmp; tmp="$(mktemp -d "$CARBONSCALE_CACHE/node-dl.XXXXXX")"
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null && tar xzf node-linux-*.tgz)
    "$tmp/package/bin/node" --version >/dev/null
    rm -rf "$dir"; mv "$tmp/package" "$dir"; rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  node_ok node || { cs_log "Node at $dir does not run"; exit 1; }
}

ensure_deps() {
  local stamp="$ROOT/node_modules/.carbonscale-lock-hash"
  local want; want="$( (cat "$ROOT/package-lock.json"; node --version) | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  cs_log "installing npm dependencies (npm ci, ~1-2 min cold)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
}

ensure_node
ensure_deps
