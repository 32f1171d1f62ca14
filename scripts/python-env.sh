#!/usr/bin/env bash
# Sourced by scripts/test.sh: a Python virtualenv in the cache with the independent Parquet readers
# (pyarrow, duckdb) and other test tools, installed from PyPI at pinned versions. Exports CARBONSCALE_PYTHON.
set -euo pipefail
PY_REQS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/python-requirements.txt"
venv="$CARBONSCALE_CACHE/venv-$(sha256sum "$PY_REQS" | cut -c1-12)"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  cs_log "creating Python test env at $venv (pyarrow, duckdb, ...; ~1 min cold)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PY_REQS"
  touch "$venv/.complete"
fi
export CARBONSCALE_PYTHON="$venv/bin/python"
