#!/bin/sh
# Starts the onair edge: writes ONAIR_EDGE_SECRET into the nginx include edge.conf reads
# ($edge_secret), then runs the command given (nginx and its arguments).
# Used by infra/k8s (the edge Deployment), compose.observability.yaml and tests/infra/edge.test.ts.
set -eu
secret_file="${EDGE_SECRET_FILE:-/run/onair-edge/secret.conf}"
secret="${ONAIR_EDGE_SECRET:-}"
# Only characters that need no quoting in nginx's configuration language (and 16 at least).
case "$secret" in
  *[!A-Za-z0-9_-]*) echo "edge-start: ONAIR_EDGE_SECRET may hold only A-Z a-z 0-9 _ -" >&2; exit 2 ;;
esac
if [ "${#secret}" -lt 16 ]; then
  echo "edge-start: ONAIR_EDGE_SECRET must be set (16+ characters)" >&2
  exit 2
fi
mkdir -p "$(dirname "$secret_file")"
umask 077
printf 'map $host $edge_secret { default "%s"; }\n' "$secret" > "$secret_file"
exec "$@"
