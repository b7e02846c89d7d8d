#!/usr/bin/env sh
# Creates the secrets the local stack reads (compose.yaml: "secrets:"), once,
# with fresh random values. They stay in deploy/local/secrets/, which git ignores.
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
# World-readable on purpose: compose bind-mounts these files as they are, and the servers run as uid 10001,
# not as you. Local values only; a cluster uses Kubernetes Secrets (manifests/istio/README.md).
umask 022
for name in db-password xds-admin-token; do
  if [ ! -s "$dir/$name" ]; then
    head -c 32 /dev/urandom | base64 | tr -d '\n' > "$dir/$name"
    echo "created $dir/$name"
  fi
done
# The DLP hash key: 64 hex digits, mounted as a compose secret (MESHGUARD_DLP_HASH_KEY_FILE).
if [ ! -s "$dir/dlp-hash-key" ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/dlp-hash-key"
  echo "created $dir/dlp-hash-key"
fi
