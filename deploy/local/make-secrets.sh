#!/usr/bin/env sh
# Creates the secrets the local stack reads (compose.yaml: "secrets:"), once,
# with fresh random values. They stay in deploy/local/secrets/, which git ignores.
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
# World-readable on purpose: compose bind-mounts these files as they are, and the servers run as uid 10001,
# not as you. Local values only; a cluster uses Kubernetes Secrets (manifests/istio/README.md).
umask 022
for name in db-password xds-admin-token redis-password; do
  if [ ! -s "$dir/$name" ]; then
    head -c 32 /dev/urandom | base64 | tr -d '\n' > "$dir/$name"
    echo "created $dir/$name"
  fi
done
# The DLP hash key and the key of held tool calls' argument digests: 64 hex digits each, mounted as compose secrets
# (MESHGUARD_DLP_HASH_KEY_FILE, MESHGUARD_DLP_APPROVAL_KEY_FILE).
for name in dlp-hash-key dlp-approval-key; do
  if [ ! -s "$dir/$name" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/$name"
    echo "created $dir/$name"
  fi
done
# The development issuer: a signing key that stays here (0600), its public JWKS (served by the dev-jwks service)
# and the dev policy extauthz enforces (policies/authz.yaml + this issuer + the demo route). Run this script again
# after editing policies/authz.yaml to regenerate the dev policy; the key is kept.
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/meshguard" dev init --data-dir "$dir" --policies "$root/policies" --jwks-uri http://127.0.0.1:9180/dev/jwks.json
