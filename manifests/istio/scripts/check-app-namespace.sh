#!/bin/sh
# Refuses to protect a namespace where meshguard's labels would do nothing, and names what is missing.
#
# Sidecar mode: ext_authz (the CUSTOM policy), the DLP EnvoyFilter and STRICT mTLS are enforced by the pod's Envoy
# sidecar, so sidecar injection must be on (istio-injection=enabled, or istio.io/rev=<revision>).
#
# Ambient mode (istio.io/dataplane-mode=ambient): ztunnel enforces L4 only and drops a CUSTOM policy bound by selector
# ("ztunnel does not support the CUSTOM action", pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go,
# 1.26-1.28; pilot/pkg/serviceregistry/ambient/authorization.go, 1.30), and a waypoint applies only policies attached
# with targetRefs (pilot/pkg/model/policyattachment.go ShouldAttachPolicy). So the namespace needs what
# manifests/istio/ambient ships: istio.io/use-waypoint naming a Gateway of class istio-waypoint in the namespace,
# labelled istio.io/waypoint-for=all (otherwise traffic to a pod IP bypasses it); a CUSTOM meshguard-extauthz policy
# with targetRefs to that Gateway; an ALLOW policy (by selector, for ztunnel) admitting only the waypoint's identity;
# and, when an EnvoyFilter targets the waypoint, the referenced-services annotation its DLP cluster needs.
# That ALLOW policy makes the waypoint's ServiceAccount the one credential to every protected pod, so the check also
# needs the admission policy that keeps the account to istiod's waypoint (admission/waypoint-identity.yaml, in force
# with Deny), and that no subject bound in the namespace (RoleBindings) holds what admission cannot refuse:
# port-forward to the waypoint's Envoy admin, editing the waypoint's Gateway, impersonating istiod, the controllers or
# a node. Subjects that run the waypoint (the platform team) are named with --waypoint-admins Kind:name,... . Exec
# and tokens for the account are refused by admission; a subject that holds them anyway is noted.
#
#   manifests/istio/scripts/check-app-namespace.sh payments      # reads the namespace and its objects with kubectl
#   ... | manifests/istio/scripts/check-app-namespace.sh -       # the same facts on stdin (the tests do this):
#       key=value                     one namespace label per line
#       gateway name=N class=C waypoint-for=V
#       authorizationpolicy name=N action=A provider=P targetRefs=Kind/name,... selector=yes|no principals=p,...
#       envoyfilter name=N targetRefs=Kind/name,... referenced=ns/host,...
#       admissionpolicy name=N
#       admissionbinding name=N policy=P actions=A,...
#       access name=Kind:name binding=B can=right,...   what `kubectl auth can-i --as` answered "yes" to; a right it
#                                                         could not ask about is listed as unchecked
#
# Exit 0: the namespace is protected in its mode; 1: it is refused, with every missing piece named; 2: usage.
set -u
set -f

admins=""
if [ $# -eq 2 ]; then
    case "$1" in
        --waypoint-admins=*) admins="${1#--waypoint-admins=}"; shift ;;
    esac
fi
if [ $# -ne 1 ]; then
    echo "usage: check-app-namespace.sh [--waypoint-admins=Kind:name,...] NAMESPACE | -" >&2
    exit 2
fi
# One line per object, in the stdin format above; "<no value>" is what go-template prints for a missing map key.
GATEWAYS='{{range .items}}gateway name={{.metadata.name}} class={{.spec.gatewayClassName}} waypoint-for={{with .metadata.labels}}{{index . "istio.io/waypoint-for"}}{{end}}{{"\n"}}{{end}}'
POLICIES='{{range .items}}authorizationpolicy name={{.metadata.name}} action={{or .spec.action "ALLOW"}} provider={{with .spec.provider}}{{.name}}{{end}} targetRefs={{range .spec.targetRefs}}{{.kind}}/{{.name}},{{end}} selector={{if .spec.selector}}yes{{else}}no{{end}} principals={{range .spec.rules}}{{range .from}}{{with .source}}{{range .principals}}{{.}},{{end}}{{end}}{{end}}{{end}}{{"\n"}}{{end}}'
FILTERS='{{range .items}}envoyfilter name={{.metadata.name}} targetRefs={{range .spec.targetRefs}}{{.kind}}/{{.name}},{{end}} referenced={{with .metadata.annotations}}{{index . "envoyfilter.istio.io/referenced-services"}}{{end}}{{"\n"}}{{end}}'
ADMISSION_POLICIES='{{range .items}}admissionpolicy name={{.metadata.name}}{{"\n"}}{{end}}'
ADMISSION_BINDINGS='{{range .items}}admissionbinding name={{.metadata.name}} policy={{.spec.policyName}} actions={{range .spec.validationActions}}{{.}},{{end}}{{"\n"}}{{end}}'
SUBJECTS='{{range .items}}{{$b := .metadata.name}}{{range .subjects}}{{.kind}} {{.name}} {{.namespace}} {{$b}}{{"\n"}}{{end}}{{end}}'

# access NAMESPACE: one access line per subject of the namespace's RoleBindings, with the rights below that
# `kubectl auth can-i` grants it. Asking as another subject needs the impersonate right (a cluster admin has it); an
# answer that is neither yes nor no is listed as unchecked, never as absent.
access() {
    kubectl -n "$1" get rolebindings.rbac.authorization.k8s.io -o go-template="$SUBJECTS" 2>/dev/null \
        | sed 's/<no value>/-/g' | sort -u | while read -r kind name sans binding; do
        case "$kind" in
            User) as="--as=$name" ;;
            Group) as="--as=meshguard-check --as-group=$name" ;;
            ServiceAccount) [ "$sans" = "-" ] && sans="$1"; as="--as=system:serviceaccount:$sans:$name" ;;
            *) continue ;;
        esac
        can=""
        while read -r right ns args; do
            # shellcheck disable=SC2086 # $as and $args are word lists
            answer=$(kubectl auth can-i $args -n "$ns" $as </dev/null 2>/dev/null | head -n 1)
            case "$answer" in
                yes) can="$can$right," ;;
                no*) ;;
                *) can="${can}unchecked:$right," ;;
            esac
        done <<RIGHTS
port-forward $1 create pods --subresource=portforward
patch-gateway $1 patch gateways.gateway.networking.k8s.io/meshguard-waypoint
update-gateway $1 update gateways.gateway.networking.k8s.io/meshguard-waypoint
impersonate-istiod istio-system impersonate serviceaccounts
impersonate-controllers kube-system impersonate serviceaccounts
impersonate-groups $1 impersonate groups
exec $1 create pods --subresource=exec
token $1 create serviceaccounts/meshguard-waypoint --subresource=token
RIGHTS
        printf 'access name=%s:%s binding=%s can=%s\n' "$kind" "$name" "$binding" "$can"
    done
}

if [ "$1" = "-" ]; then
    facts=$(cat)
    where="the namespace"
else
    facts=$(kubectl get namespace "$1" \
        -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}') || exit 2
    # Objects only matter in ambient mode; a cluster without the Gateway API CRDs simply has no waypoint.
    facts="$facts
$(kubectl -n "$1" get gateways.gateway.networking.k8s.io -o go-template="$GATEWAYS" 2>/dev/null)
$(kubectl -n "$1" get authorizationpolicies.security.istio.io -o go-template="$POLICIES" 2>/dev/null)
$(kubectl -n "$1" get envoyfilters.networking.istio.io -o go-template="$FILTERS" 2>/dev/null)"
    if [ "$(kubectl get namespace "$1" -o go-template='{{index .metadata.labels "istio.io/dataplane-mode"}}')" = "ambient" ]; then
        facts="$facts
$(kubectl get validatingadmissionpolicies.admissionregistration.k8s.io -o go-template="$ADMISSION_POLICIES" 2>/dev/null)
$(kubectl get validatingadmissionpolicybindings.admissionregistration.k8s.io -o go-template="$ADMISSION_BINDINGS" 2>/dev/null)
$(access "$1")"
    fi
    where="namespace $1"
fi
facts=$(printf '%s\n' "$facts" | sed 's/<no value>//g')
labels=$(printf '%s\n' "$facts" | grep -v '^[a-z]* name=')

label() {
    printf '%s\n' "$labels" | sed -n "s|^$1=||p" | head -n 1
}

# field NAME LINE: the value of NAME=... in one object line
field() {
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s|^$1=||p" | head -n 1
}
# objects KIND: the object lines of that kind
objects() {
    printf '%s\n' "$facts" | grep "^$1 name=" || true
}
# has_item LIST ITEM: true when the comma-separated LIST holds ITEM
has_item() {
    case ",$1," in *",$2,"*) return 0 ;; esac
    return 1
}

check_ambient() {
    missing=""
    miss() { missing="$missing
  - $*"; }
    waypoint=$(label 'istio\.io/use-waypoint')
    namespace=$(label 'kubernetes\.io/metadata\.name')
    if [ -z "$waypoint" ] || [ "$waypoint" = "none" ]; then
        miss "namespace label istio.io/use-waypoint=meshguard-waypoint: without a waypoint ztunnel delivers requests" \
            "straight to the pods, with no Check and no DLP (kubectl label namespace <ns> istio.io/use-waypoint=meshguard-waypoint)"
        waypoint=meshguard-waypoint
    fi
    other=$(label 'istio\.io/use-waypoint-namespace')
    if [ -n "$other" ] && [ "$other" != "$namespace" ]; then
        miss "a waypoint in this namespace: istio.io/use-waypoint-namespace=$other points elsewhere, which this check" \
            "and manifests/istio/ambient do not cover"
    fi
    gw=$(objects gateway | while read -r line; do
        [ "$(field name "$line")" = "$waypoint" ] && printf '%s\n' "$line"; done | head -n 1)
    if [ -z "$gw" ]; then
        miss "Gateway $waypoint (gatewayClassName istio-waypoint) in the namespace: kubectl apply -k a copy of" \
            "manifests/istio/ambient/example-namespace"
    else
        if [ "$(field class "$gw")" != "istio-waypoint" ]; then
            miss "gatewayClassName istio-waypoint on Gateway $waypoint (now: $(field class "$gw"))"
        fi
        if [ "$(field waypoint-for "$gw")" != "all" ]; then
            miss "label istio.io/waypoint-for=all on Gateway $waypoint (now: $(field waypoint-for "$gw" | sed 's/^$/unset, i.e. service/')):" \
                "with service, traffic to a pod IP bypasses the waypoint; with workload, Service traffic does"
        fi
    fi
    custom=no
    selector_bound=""
    only_waypoint=no
    want="cluster.local/ns/$namespace/sa/$waypoint"
    for line in $(objects authorizationpolicy | tr ' ' '|'); do
        line=$(printf '%s' "$line" | tr '|' ' ')
        action=$(field action "$line")
        if [ "$action" = "CUSTOM" ] && [ "$(field provider "$line")" = "meshguard-extauthz" ]; then
            if has_item "$(field targetRefs "$line")" "Gateway/$waypoint"; then
                custom=yes
            elif [ -z "$(field targetRefs "$line")" ]; then
                selector_bound="$selector_bound $(field name "$line")"
            fi
        fi
        if [ "$action" = "ALLOW" ] && [ "$(field selector "$line")" = "yes" ] && [ -z "$(field targetRefs "$line")" ] \
            && [ "$(field principals "$line")" = "$want," ]; then
            only_waypoint=yes
        fi
    done
    if [ "$custom" = "no" ]; then
        if [ -n "$selector_bound" ]; then
            miss "targetRefs on the CUSTOM policy:$selector_bound is bound by selector, which ztunnel drops (\"ztunnel does" \
                "not support the CUSTOM action\") and a waypoint ignores; attach it to Gateway $waypoint with targetRefs"
        else
            miss "AuthorizationPolicy action CUSTOM, provider meshguard-extauthz, targetRefs Gateway/$waypoint" \
                "(manifests/istio/ambient/kit/authorization-policy.yaml)"
        fi
    fi
    if [ "$only_waypoint" = "no" ]; then
        miss "AuthorizationPolicy action ALLOW by selector (meshguard.io/protected) whose only principal is $want:" \
            "without it a pod that dials a protected pod's IP, or any sidecar, reaches it with no Check"
    fi
    dlp=no
    for line in $(objects envoyfilter | tr ' ' '|'); do
        line=$(printf '%s' "$line" | tr '|' ' ')
        if has_item "$(field targetRefs "$line")" "Gateway/$waypoint"; then
            dlp=yes
            if ! has_item "$(field referenced "$line")" "meshguard/meshguard-dlp.meshguard.svc.cluster.local"; then
                miss "annotation envoyfilter.istio.io/referenced-services=meshguard/meshguard-dlp.meshguard.svc.cluster.local" \
                    "on EnvoyFilter $(field name "$line"): without it the waypoint has no cluster for the DLP server and" \
                    "every scanned request fails"
            fi
        fi
    done
    # The waypoint's identity: admission keeps it to istiod's waypoint, RBAC keeps the rest of the way shut.
    if ! objects admissionpolicy | grep -q '^admissionpolicy name=meshguard-waypoint-identity$' \
        || ! objects admissionbinding | grep -q ' policy=meshguard-waypoint-identity actions=\([A-Za-z]*,\)*Deny,'; then
        miss "the admission policy meshguard-waypoint-identity with a Deny binding (kubectl apply -f" \
            "manifests/istio/admission/waypoint-identity.yaml): without it anyone who may create pods here can run one" \
            "as $waypoint, the identity ztunnel lets reach every protected pod, with no Check, no DLP and no log"
    fi
    notes=""
    for line in $(objects access | tr ' ' '|'); do
        line=$(printf '%s' "$line" | tr '|' ' ')
        subject=$(field name "$line")
        has_item "$admins" "$subject" && continue
        can=$(field can "$line")
        for right in $(printf '%s' "$can" | tr ',' ' '); do
            case "$right" in
                unchecked:*)
                    miss "an answer from kubectl auth can-i --as $subject for ${right#unchecked:} (RoleBinding" \
                        "$(field binding "$line")): run the check with the impersonate right, or name the subject in" \
                        "--waypoint-admins" ;;
                port-forward)
                    miss "no pods/portforward for $subject (RoleBinding $(field binding "$line")): it reaches the" \
                        "waypoint's Envoy admin (log levels, draining, stopping); or name it in --waypoint-admins" ;;
                patch-gateway | update-gateway)
                    miss "no ${right%-gateway} of gateways/$waypoint for $subject (RoleBinding $(field binding "$line")):" \
                        "the Gateway decides what istiod runs as the waypoint; or name it in --waypoint-admins" ;;
                impersonate-*)
                    miss "no impersonation for $subject (RoleBinding $(field binding "$line"), $right): as istiod," \
                        "a controller or a node it passes the admission policy's chain" ;;
                exec)
                    notes="$notes
note: $subject may exec into pods (RoleBinding $(field binding "$line")); admission refuses it into the $waypoint pods." ;;
                token)
                    notes="$notes
note: $subject may create tokens for $waypoint (RoleBinding $(field binding "$line")); admission refuses them." ;;
            esac
        done
    done
    if [ -n "$missing" ]; then
        echo "refused: $where is in ambient mode (istio.io/dataplane-mode=ambient) and is missing:$missing" >&2
        exit 1
    fi
    echo "ok: $where is in ambient mode behind waypoint $waypoint (waypoint-for=all), with meshguard's CUSTOM policy" \
        "on it and ztunnel admitting only $want, an identity admission keeps to istiod's waypoint"
    if [ "$dlp" = "no" ]; then
        echo "note: no EnvoyFilter targets $waypoint: request and response bodies are not scanned (DLP off)."
    fi
    [ -n "$notes" ] && printf '%s\n' "$notes" | sed '/^$/d'
    echo "the waypoint's filters are proven with istioctl (manifests/istio/ambient/README.md, step 5)."
    exit 0
}

if [ "$(label 'istio\.io/dataplane-mode')" = "ambient" ]; then
    check_ambient
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
