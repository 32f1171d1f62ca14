#!/usr/bin/env bash
# The whole test suite on a fresh machine: Node 24, npm dependencies, Python readers and the Kubernetes
# binaries are installed or built as needed (cached outside the tree). Then: type check, lint, unit,
# integration (etcd + kube-apiserver), e2e (+ controller-manager, scheduler, kwok GPU nodes).
# Ends with one line `N passed, N failed, N skipped` totalled over all tiers.
#   scripts/test.sh                 # everything
#   TIERS="unit" scripts/test.sh    # one or more tiers (unit integration e2e)
#   scripts/test.sh test/unit/decision/decide.test.ts   # one file (tier inferred from its path)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh || exit 1
source scripts/python-env.sh || exit 1
for f in scripts/setup.d/*.sh; do [ -e "$f" ] && { source "$f" || exit 1; }; done
# The sourced set-up scripts use `set -e`; a failing tier must not end the run before the summary line.
set +e
start=$SECONDS

files=("$@")
TIERS="${TIERS:-unit integration e2e}"
if [ ${#files[@]} -gt 0 ]; then
  TIERS=""; for t in unit integration e2e; do for f in "${files[@]}"; do case "$f" in test/$t/*) TIERS="$TIERS $t"; break;; esac; done; done
fi
needs_k8s=0; case "$TIERS" in *integration*|*e2e*) needs_k8s=1;; esac

# Build (or find cached) Kubernetes binaries in the background while the fast checks run.
k8s_log="$CARBONSCALE_CACHE/k8s-build.log"
if [ $needs_k8s -eq 1 ] && [ -z "${KUBEBUILDER_ASSETS:-}" ] && [ -z "${USE_EXISTING_CLUSTER:-}" ]; then
  bash scripts/build-k8s-binaries.sh > "$k8s_log.out" 2> >(tee "$k8s_log" >&2) &
  k8s_pid=$!
fi

summary="$(mktemp)"; trap 'rm -f "$summary"' EXIT
export CARBONSCALE_SUMMARY="$summary"
gate_failed=0

run_gate() { local name="$1"; shift; echo "=== $name"; if "$@"; then echo "--- $name: ok"; else echo "--- $name: FAILED"; gate_failed=$((gate_failed+1)); fi; }

if [ ${#files[@]} -eq 0 ]; then
  run_gate "type check (tsc --noEmit)" node_modules/.bin/tsc --noEmit -p tsconfig.json
  run_gate "lint (eslint + prettier, function lengths)" bash -c 'node_modules/.bin/eslint --max-warnings 0 . && node_modules/.bin/prettier --check . >/dev/null && node scripts/function-lengths.ts'
fi

run_tier() {
  local tier="$1"; shift
  local specs=("$@")
  [ ${#specs[@]} -gt 0 ] || specs=("test/$tier/**/*.test.ts")
  echo "=== tier: $tier"
  local before; before=$(wc -l < "$summary")
  CARBONSCALE_TIER="$tier" node_modules/.bin/mocha --config test/.mocharc.json "${specs[@]}"
  local rc=$?
  if [ "$(wc -l < "$summary")" -eq "$before" ]; then
    # mocha died before reporting (load error): count the tier as one failure rather than lose it.
    echo "{\"tier\":\"$tier\",\"passed\":0,\"failed\":1,\"skipped\":0}" >> "$summary"
  elif [ $rc -ne 0 ] && ! grep -q "\"tier\":\"$tier\".*\"failed\":[1-9]" "$summary"; then
    echo "{\"tier\":\"$tier\",\"passed\":0,\"failed\":1,\"skipped\":0}" >> "$summary"
  fi
}

for tier in $TIERS; do
  if [ "$tier" != unit ] && [ -n "${k8s_pid:-}" ]; then
    echo "=== waiting for the Kubernetes binaries (progress in $k8s_log)"
    if wait "$k8s_pid"; then export KUBEBUILDER_ASSETS="$(tail -n1 "$k8s_log.out")"; else echo "building the Kubernetes binaries failed"; gate_failed=$((gate_failed+1)); fi
    k8s_pid=""
  fi
  tier_files=(); for f in "${files[@]}"; do case "$f" in test/$tier/*) tier_files+=("$f");; esac; done
  run_tier "$tier" "${tier_files[@]}"
done

read -r passed failed skipped < <(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map(JSON.parse);
  const sum = (k) => lines.reduce((a, l) => a + l[k], 0);
  console.log(sum("passed"), sum("failed"), sum("skipped"));' "$summary")
failed=$((failed + gate_failed))
echo "suite took $(( (SECONDS-start)/60 )) min $(( (SECONDS-start)%60 )) s"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
