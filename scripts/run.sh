#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone: installs Node 24 and the npm dependencies, builds
# (or finds cached) the Kubernetes binaries, then starts a local control plane with 3 fake GPU nodes × 8 GPUs,
# installs the CRDs, applies examples/embedded/ (a replayed real carbon trace and two services) and runs the
# operator against it. Ctrl-C stops everything. With KUBECONFIG set (or --kubeconfig), it runs against that cluster.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
if [ -z "${KUBECONFIG:-}" ] && [[ " $* " != *" --kubeconfig "* ]]; then
  if [ -z "${KUBEBUILDER_ASSETS:-}" ]; then
    KUBEBUILDER_ASSETS="$(bash scripts/build-k8s-binaries.sh | tail -n1)"
    export KUBEBUILDER_ASSETS
  fi
fi
exec node operator/cli.ts operator --health-addr "${HEALTH_ADDR:-127.0.0.1:8081}" "$@"
