#!/bin/sh
# Refuses an Istio too old for meshguard's EnvoyFilter. The filter streams bodies with ext_proc's
# FULL_DUPLEX_STREAMED mode, which Envoy has from 1.34 (changelogs/1.34.0.yaml), first shipped in Istio 1.26.
# On Istio <= 1.24 the validating webhook rejects the EnvoyFilter and, with the webhook off, istiod drops it
# silently (pilot/pkg/model/envoyfilter.go): DLP-labelled pods then run with no body scanning at all. 1.25 has the
# mode only as a hidden, unsupported implementation. docs/envoy-features.yaml holds the same floor
# (deploy-tests compare the two).
#
#   manifests/istio/scripts/check-istio-version.sh        # asks the cluster: istiod and every istio-proxy image
#   manifests/istio/scripts/check-istio-version.sh --ambient   # before the ambient overlay (docs/install.md, 10)
#   istioctl version | manifests/istio/scripts/check-istio-version.sh -
#   kubectl -n istio-system get deploy -l app=istiod -o jsonpath='{..image}' | manifests/istio/scripts/check-istio-version.sh -
#
# Input lines hold image references (…/pilot:1.26.2-distroless, …/proxyv2:1.27.1) or `istioctl version` lines
# (control plane version: 1.26.2). Exit 0: every version is at least the floor; 1: one is older; 2: a version
# could not be read (a digest-only image, say) — check that one by hand.
#
# --ambient raises the floor to 1.27 for manifests/istio/ambient: istiod honours an EnvoyFilter's targetRefs (the DLP
# filter on the waypoint) from 1.27.0 (istio/istio#56476); 1.26 ignores them and applies the filter to every proxy of
# the namespace. Below 1.30 it warns (exit 0): only 1.30 waypoints synthesise x-forwarded-client-cert with the
# caller's identity, so before it every caller of an ambient namespace is anonymous to extauthz.
set -u

MIN_MAJOR=1
MIN_MINOR=26
# the floor for the ambient overlay, and the release below which it warns (XFCC identity at waypoints)
AMBIENT_MIN_MINOR=27
AMBIENT_XFCC_MINOR=30

ambient=0
if [ "${1:-}" = "--ambient" ]; then
    ambient=1
    shift
fi
floor_minor=$MIN_MINOR
[ "$ambient" -eq 1 ] && floor_minor=$AMBIENT_MIN_MINOR

if [ "${1:-}" = "-" ]; then
    input=$(cat)
else
    input=$(kubectl -n istio-system get deploy -l app=istiod \
                -o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image}{"\n"}{end}' &&
            kubectl get pods -A \
                -o jsonpath='{range .items[*]}{range .spec.containers[?(@.name=="istio-proxy")]}{.image}{"\n"}{end}{range .spec.initContainers[?(@.name=="istio-proxy")]}{.image}{"\n"}{end}{end}') || {
        echo "check-istio-version: kubectl could not list istiod and istio-proxy images" >&2
        exit 2
    }
fi

status=0
seen=0
# One check per distinct word that holds a version; a hundred identical sidecar images are one check. istioctl's
# own client version says nothing about the mesh, so its line is skipped.
for line in $(printf '%s\n' "$input" | grep -iv '^ *client version' | tr -s ' \t' '\n\n' \
        | grep -E '[0-9]+\.[0-9]+|@sha256:' | sort -u); do
    case "$line" in
        *@sha256:*) version="" ;;
        *:*) version=${line##*:} ;;   # the tag of an image reference
        *) version=$line ;;
    esac
    numbers=$(printf '%s' "$version" | sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
    if [ -z "$numbers" ]; then
        echo "cannot tell the Istio version of '$line': check it by hand (Istio >= $MIN_MAJOR.$floor_minor needed)" >&2
        [ "$status" -eq 0 ] && status=2
        continue
    fi
    seen=$((seen + 1))
    major=${numbers% *}
    minor=${numbers#* }
    if [ "$major" -lt "$MIN_MAJOR" ] || { [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -lt "$MIN_MINOR" ]; }; then
        echo "too old: $line (Istio $major.$minor; meshguard needs >= $MIN_MAJOR.$MIN_MINOR = Envoy >= 1.34 for FULL_DUPLEX_STREAMED)" >&2
        status=1
    elif [ "$ambient" -eq 1 ] && [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -lt "$AMBIENT_MIN_MINOR" ]; then
        echo "too old for ambient: $line (Istio $major.$minor; the waypoint's DLP EnvoyFilter needs targetRefs, honoured from $MIN_MAJOR.$AMBIENT_MIN_MINOR.0)" >&2
        status=1
    elif [ "$ambient" -eq 1 ] && [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -lt "$AMBIENT_XFCC_MINOR" ]; then
        echo "ok, with a warning: $line (Istio $major.$minor < $MIN_MAJOR.$AMBIENT_XFCC_MINOR: waypoints do not pass the caller's identity (x-forwarded-client-cert), so auth: mtls routes, from: rules and the gateway hop deny in ambient namespaces)"
    else
        echo "ok: $line"
    fi
done

if [ "$seen" -eq 0 ] && [ "$status" -eq 0 ]; then
    echo "check-istio-version: no Istio version in the input" >&2
    status=2
fi
exit "$status"
