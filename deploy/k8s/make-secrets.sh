#!/usr/bin/env bash
# Creates every Secret that deploy/k8s references, in namespace $NAMESPACE (default doutok),
# which it creates too. Nothing secret is in the repository: run this before
# `kubectl apply -k deploy/k8s`, with kubectl pointed at the cluster.
#
# From the environment (required):
#   DATABASE_URL    PostgreSQL URL for the services, e.g.
#                   postgres://doutok:PASSWORD@postgres.example.internal:5432/doutok?sslmode=require
#   REDIS_PASSWORD  the state store's Redis password
#   S3_ACCESS_KEY   the media bucket's access key id
#   S3_SECRET_KEY   and its secret key
#   KAFKA_USERNAME  the pubsub's SASL user
#   KAFKA_PASSWORD  and its password
# Generated (random, 32 bytes as hex), kept if the Secret already exists; ROTATE=1 makes new
# ones (then restart the pods: `kubectl -n doutok rollout restart deployment`; a new signing key
# logs every user out):
#   dapr-api-token     what each app presents to its sidecar (DAPR_API_TOKEN)
#   dapr-app-token     what each sidecar presents to its app (APP_API_TOKEN)
#   token-signing-key  the gateway's token signing key (Dapr secret store entry)
set -euo pipefail

NAMESPACE=${NAMESPACE:-doutok}

missing=()
for v in DATABASE_URL REDIS_PASSWORD S3_ACCESS_KEY S3_SECRET_KEY KAFKA_USERNAME KAFKA_PASSWORD; do
  [[ -n "${!v:-}" ]] || missing+=("$v")
done
if ((${#missing[@]})); then
  echo "make-secrets.sh: set ${missing[*]} (see the top of this script)" >&2
  exit 2
fi

random() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# apply_secret NAME --from-literal=KEY=VALUE...: creates or updates Secret NAME.
apply_secret() {
  local name=$1
  shift
  kubectl -n "$NAMESPACE" create secret generic "$name" "$@" --dry-run=client -o yaml | kubectl apply -f -
}

# random_secret NAME KEY: Secret NAME with a random KEY, unless it exists (and ROTATE is unset).
random_secret() {
  if [[ "${ROTATE:-}" != 1 ]] && kubectl -n "$NAMESPACE" get secret "$1" >/dev/null 2>&1; then
    echo "secret/$1 kept"
    return
  fi
  apply_secret "$1" "--from-literal=$2=$(random)"
}

kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -

random_secret dapr-api-token token
random_secret dapr-app-token token
random_secret token-signing-key token-signing-key
apply_secret doutok-database --from-literal=url="$DATABASE_URL"
apply_secret redis --from-literal=password="$REDIS_PASSWORD"
apply_secret s3 --from-literal=access-key="$S3_ACCESS_KEY" --from-literal=secret-key="$S3_SECRET_KEY"
apply_secret kafka --from-literal=username="$KAFKA_USERNAME" --from-literal=password="$KAFKA_PASSWORD"
