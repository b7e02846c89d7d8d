#!/bin/sh
# Refuses to protect a namespace where meshguard's labels would do nothing. ext_authz (the CUSTOM policy), the DLP
# EnvoyFilter and STRICT mTLS are all enforced by the pod's Envoy sidecar: a pod without one is not protected, and
# an ambient namespace has none — ztunnel does not support the CUSTOM action
# (pilot/pkg/serviceregistry/kube/controller/ambient/authorization_test.go) and EnvoyFilters never reach it.
#
#   manifests/istio/scripts/check-app-namespace.sh payments      # reads the namespace's labels with kubectl
#   kubectl get namespace payments -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}' \
#       | manifests/istio/scripts/check-app-namespace.sh -
#
# Exit 0: sidecar injection is on (istio-injection=enabled, or istio.io/rev=<revision>) and the namespace is not
# ambient; 1: it is refused, with the label to set or remove.
set -u

if [ $# -ne 1 ]; then
    echo "usage: check-app-namespace.sh NAMESPACE | -" >&2
    exit 2
fi
if [ "$1" = "-" ]; then
    labels=$(cat)
    where="the namespace"
else
    labels=$(kubectl get namespace "$1" \
        -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}') || exit 2
    where="namespace $1"
fi

label() {
    printf '%s\n' "$labels" | sed -n "s|^$1=||p" | head -n 1
}

if [ "$(label 'istio\.io/dataplane-mode')" = "ambient" ]; then
    echo "refused: $where is in ambient mode (istio.io/dataplane-mode=ambient). meshguard needs Envoy sidecars:" \
        "ztunnel ignores CUSTOM policies and EnvoyFilters, so labelled pods would get no ext_authz and no DLP." >&2
    exit 1
fi
injection=$(label 'istio-injection')
revision=$(label 'istio\.io/rev')
if [ "$injection" = "disabled" ]; then
    echo "refused: $where has istio-injection=disabled: its pods get no sidecar, so no ext_authz, DLP or mTLS." >&2
    exit 1
fi
if [ "$injection" != "enabled" ] && [ -z "$revision" ]; then
    echo "refused: $where has no sidecar injection. Label it: kubectl label namespace <ns> istio-injection=enabled" \
        "(or istio.io/rev=<revision> on a revisioned install), then restart its workloads." >&2
    exit 1
fi
if [ -n "$revision" ]; then
    echo "ok: $where injects sidecars of revision $revision"
else
    echo "ok: $where injects sidecars (istio-injection=enabled)"
fi
echo "pods that opt out (sidecar.istio.io/inject: \"false\") are still unprotected: the README's last step checks each pod."
