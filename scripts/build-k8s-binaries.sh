#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries the test harness and the embedded default need,
# from Go modules through the module proxy, at pinned versions, into a cache outside the git tree.
# A second run finds them cached and returns at once. See docs/development.md.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.14}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${CARBONSCALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscale}"
BIN="$CACHE/k8s-bin/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"

log() { printf '[k8s-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
need() { for b in "$@"; do [ -e "$BIN/$b" ] || return 0; done; return 1; }

command -v go >/dev/null || { log "go is required (Go 1.26 or newer) to build the control plane"; exit 1; }
mkdir -p "$BIN"
work="$CACHE/k8s-build"; mkdir -p "$work"
# One build at a time per cache: a second run (two test runs started together) waits here, then finds the
# binaries built, instead of compiling the same modules beside the first.
if command -v flock >/dev/null; then
  exec 9>"$CACHE/k8s-build.lock"
  flock -n 9 || { log "another build of the Kubernetes binaries is running; waiting for it"; flock 9; }
fi

# Print a heartbeat while a long build runs, so nothing waits silently.
with_heartbeat() {
  local what="$1" estimate="$2"; shift 2
  local start=$SECONDS
  log "building $what (cold estimate on 2 cores: $estimate; cached afterwards)"
  ( while sleep 60; do log "… still building $what ($(( (SECONDS-start)/60 )) min elapsed, estimate $estimate)"; done ) &
  local hb=$!
  local rc=0
  "$@" || rc=$?
  kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
  [ $rc -eq 0 ] && log "built $what in $(( SECONDS-start )) s" || log "FAILED building $what (exit $rc)"
  return $rc
}

build_etcd() {
  local d="$work/etcd-$ETCD_VERSION"; mkdir -p "$d"; cd "$d"
  cat > go.mod <<MOD
module local.build/etcdbin
go 1.25.0
tool go.etcd.io/etcd/server/v3
require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  go mod tidy >/dev/null 2>&1 || go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
}

build_kwok() {
  local d="$work/kwok-$KWOK_VERSION"; mkdir -p "$d"; cd "$d"
  GOBIN="$d/bin" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  cp "$d/bin/kwok" "$BIN/kwok"
  # kwok has no built-in stages: assemble the fast node/pod stages that ship in its module zip.
  local K; K=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  { for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      echo '---'; cat "$K/kustomize/stage/$f"; done; } > "$BIN/kwok-stages.yaml"
}

build_helm() {
  local d="$work/helm-$HELM_VERSION"; mkdir -p "$d"; cd "$d"
  local major="${HELM_VERSION#v}"; major="${major%%.*}"
  local mod="helm.sh/helm/v$major"
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  GOBIN="$d/bin" go install -trimpath -ldflags "-s -w -X $mod/internal/version.version=$HELM_VERSION \
    -X $mod/pkg/chartutil.k8sVersionMajor=1 -X $mod/pkg/chartutil.k8sVersionMinor=$minor \
    -X $mod/pkg/lint/rules.k8sVersionMajor=1 -X $mod/pkg/lint/rules.k8sVersionMinor=$minor" \
    "$mod/cmd/helm@$HELM_VERSION"
  cp "$d/bin/helm" "$BIN/helm"
}

build_kubernetes() {
  local d="$work/kubernetes-$K8S_VERSION"; mkdir -p "$d"; cd "$d"
  local sv="v0.${K8S_VERSION#v1.}"
  local staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client
    cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
    sample-apiserver sample-cli-plugin sample-controller streaming"
  {
    echo "module local.build/k8sbins"
    echo "go 1.26.0"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "replace ("
    for m in $staging; do echo "  k8s.io/$m => k8s.io/$m $sv"; done
    echo ")"
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  go build -trimpath -ldflags "$ldf" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

if need etcd; then with_heartbeat "etcd $ETCD_VERSION" "3-5 min" build_etcd; fi
if need kwok kwok-stages.yaml; then with_heartbeat "kwok $KWOK_VERSION" "3-5 min" build_kwok; fi
if need helm; then with_heartbeat "helm $HELM_VERSION" "4-6 min" build_helm; fi
if need kube-apiserver kube-controller-manager kube-scheduler kubectl; then
  with_heartbeat "kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S_VERSION" "20-35 min" build_kubernetes
fi
echo "$BIN"
