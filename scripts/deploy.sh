#!/usr/bin/env bash
# Deploys and operates onair, on one Docker host (compose) or on Kubernetes (infra/k8s).
# docs/runbook.md uses these commands; tests/infra/deploy.test.ts runs them with --dry-run.
#
#   scripts/deploy.sh [--dry-run] compose <command> [args]
#   scripts/deploy.sh [--dry-run] k8s <overlay> <command> [args]      overlay: trial | production
#
# compose commands:
#   check                     validate .env and the stack files (docker-compose config)
#   up                        build and start the stack: compose.yaml + compose.observability.yaml,
#                             + compose.edge.yaml when .env sets ONAIR_EDGE_URL
#   down | status | logs [service]
#   restart                   recreate what changed (after editing .env, e.g. a rotated secret)
#   scale control <n>         n control containers (media stays one: one stream lives on one media)
#   backup <dir>              MariaDB dump, MinIO bucket, Redis snapshot into <dir>
#   restore <dir>             MariaDB and MinIO back from <dir> (control, media, transcoder stopped meanwhile)
#   dead-letters list | dead-letters replay <id|all>
# k8s commands:
#   render | check            kubectl kustomize the overlay (check: render and summarise)
#   apply                     render and kubectl apply (creates the namespace when missing)
#   diff | status | logs <role>
#   restart [role]            rollout restart (all roles by default)
#   scale <control|edge|transcoder> <min>   the autoscaler's minimum replicas
#   backup <dir> | restore <dir>            trial overlay only (in-cluster MariaDB, MinIO, Redis)
#   dead-letters list | dead-letters replay <id|all>
#
# --dry-run validates (reads .env, runs docker-compose config / kubectl kustomize) and prints every
# command that would change something, prefixed with "+ ", instead of running it.
# Environment: ONAIR_ENV_FILE (default .env), COMPOSE (default docker-compose, else "docker compose"),
# KUBECTL (default kubectl).
set -euo pipefail

rendered=""
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

dry_run=0
if [[ "${1:-}" == "--dry-run" ]]; then dry_run=1; shift; fi

die() { echo "deploy: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

# Runs a command, or prints it under --dry-run.
# Printed shell-quoted, so a printed line can be pasted and run as it is.
show() { printf '+'; printf ' %q' "$@"; }
run() {
  if (( dry_run )); then show "$@"; echo; else "$@"; fi
}
# Runs a command with its standard output into a file / input from a file.
run_out() {
  local file="$1"; shift
  if (( dry_run )); then show "$@"; printf ' > %q\n' "$file"; else "$@" > "$file"; fi
}
run_in() {
  local file="$1"; shift
  if (( dry_run )); then show "$@"; printf ' < %q\n' "$file"; else "$@" < "$file"; fi
}

# Shell snippets run inside the dependency containers (compose and the trial overlay alike); each
# reads the credentials the container already has in its environment.
MARIADB_DUMP='exec mariadb-dump --single-transaction --quick --routines -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" "$MARIADB_DATABASE"'
MARIADB_LOAD='exec mariadb -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" "$MARIADB_DATABASE"'
MINIO_ALIAS='mc alias set onair-backup http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null'
MINIO_DUMP="$MINIO_ALIAS && rm -rf /tmp/onair-backup && mc mirror --quiet onair-backup/onair /tmp/onair-backup >/dev/null && tar -C /tmp/onair-backup -cf - . && rm -rf /tmp/onair-backup"
MINIO_LOAD="$MINIO_ALIAS && rm -rf /tmp/onair-restore && mkdir -p /tmp/onair-restore && tar -C /tmp/onair-restore -xf - && mc mb --ignore-existing onair-backup/onair >/dev/null && mc mirror --quiet --overwrite /tmp/onair-restore onair-backup/onair >/dev/null && rm -rf /tmp/onair-restore"
REDIS_DUMP='redis-cli --rdb /tmp/onair-backup.rdb >/dev/null && cat /tmp/onair-backup.rdb && rm -f /tmp/onair-backup.rdb'
# The admin CLI inside a control container (the image holds the compiled dist/).
DEAD_LETTERS=(node dist/control/cli.js dead-letters)

# Checks the dead-letters arguments into dl_args (not in a subshell: die must end the script).
dl_args=()
dead_letter_args() {
  case "${1:-}" in
    list) dl_args=(list) ;;
    replay) [[ "${2:-}" =~ ^(all|[0-9]+)$ ]] || die "dead-letters replay <id|all>"; dl_args=(replay "$2") ;;
    *) die "dead-letters list | dead-letters replay <id|all>" ;;
  esac
}

# ---------------------------------------------------------------- compose
compose_main() {
  local env_file="${ONAIR_ENV_FILE:-.env}"
  local -a dc
  if [[ -n "${COMPOSE:-}" ]]; then read -r -a dc <<< "$COMPOSE"
  elif command -v docker-compose >/dev/null 2>&1; then dc=(docker-compose)
  else dc=(docker compose); fi

  [[ -f "$env_file" ]] || die "$env_file not found: write ONAIR_SECRET, ONAIR_PLAY_TOKEN_KEY and ONAIR_MEDIA_CALLBACK_KEY into it (docs/runbook.md, Deploy)"
  local key
  for key in ONAIR_SECRET ONAIR_PLAY_TOKEN_KEY ONAIR_MEDIA_CALLBACK_KEY; do
    grep -Eq "^${key}=.+" "$env_file" || die "$env_file: $key is not set"
  done
  local -a files=(-f compose.yaml -f compose.observability.yaml)
  if grep -Eq '^ONAIR_EDGE_URL=.+' "$env_file"; then files+=(-f compose.edge.yaml); fi
  dc+=(--env-file "$env_file" "${files[@]}")

  # Validation runs even under --dry-run: it changes nothing. `config --services` parses,
  # interpolates and validates the files like `config -q`, and names the services.
  local services
  services="$("${dc[@]}" config --services)" || die "docker-compose config failed"
  # The onair roles this stack has (the transcoder joins compose.yaml with its issue).
  local -a roles=()
  local s
  for s in $services; do
    case "$s" in control|media|transcoder) roles+=("$s") ;; esac
  done

  local cmd="${1:-}"; shift || true
  case "$cmd" in
    check) echo "compose files valid: ${files[*]}; onair roles: ${roles[*]}" ;;
    up) run "${dc[@]}" up -d --build --remove-orphans ;;
    down) run "${dc[@]}" down ;;
    status) run "${dc[@]}" ps ;;
    logs) run "${dc[@]}" logs --tail=200 "$@" ;;
    restart) run "${dc[@]}" up -d ;;
    scale)
      [[ "${1:-}" == control && "${2:-}" =~ ^[1-9][0-9]?$ ]] || die "scale control <n>  (only control scales in compose: one stream lives on one media)"
      run "${dc[@]}" up -d --no-deps --scale "control=$2" control ;;
    backup)
      local dir="${1:-}"; [[ -n "$dir" ]] || die "backup <dir>"
      run mkdir -p "$dir"
      run_out "$dir/mariadb.sql" "${dc[@]}" exec -T mysql sh -c "$MARIADB_DUMP"
      run_out "$dir/minio-onair.tar" "${dc[@]}" exec -T minio sh -c "$MINIO_DUMP"
      run_out "$dir/redis.rdb" "${dc[@]}" exec -T redis sh -c "$REDIS_DUMP" ;;
    restore)
      local dir="${1:-}"; [[ -n "$dir" ]] || die "restore <dir>"
      if (( ! dry_run )); then
        [[ -s "$dir/mariadb.sql" && -f "$dir/minio-onair.tar" ]] || die "$dir holds no mariadb.sql / minio-onair.tar"
      fi
      run "${dc[@]}" stop "${roles[@]}"
      run_in "$dir/mariadb.sql" "${dc[@]}" exec -T mysql sh -c "$MARIADB_LOAD"
      run_in "$dir/minio-onair.tar" "${dc[@]}" exec -T minio sh -c "$MINIO_LOAD"
      run "${dc[@]}" start "${roles[@]}" ;;
    dead-letters)
      dead_letter_args "$@"
      run "${dc[@]}" exec -T control "${DEAD_LETTERS[@]}" "${dl_args[@]}" ;;
    *) usage ;;
  esac
}

# ---------------------------------------------------------------- kubernetes
k8s_main() {
  local overlay="${1:-}"; shift || true
  local dir="infra/k8s/overlays/$overlay"
  [[ -n "$overlay" && -f "$dir/kustomization.yaml" ]] || die "no overlay '$overlay' (infra/k8s/overlays: $(ls infra/k8s/overlays | tr '\n' ' '))"
  local kc="${KUBECTL:-kubectl}"
  local ns
  ns="$(sed -n 's/^namespace:[[:space:]]*\([A-Za-z0-9-]*\).*/\1/p' "$dir/kustomization.yaml")"
  [[ -n "$ns" ]] || die "$dir/kustomization.yaml names no namespace"
  if grep -q 'secrets.env$' "$dir/kustomization.yaml" && [[ ! -f "$dir/secrets.env" ]]; then
    die "$dir/secrets.env not found: cp $dir/secrets.env.example $dir/secrets.env and fill it in (never commit it)"
  fi

  # Rendering runs even under --dry-run: it changes nothing.
  rendered="$(mktemp "${TMPDIR:-/tmp}/onair-k8s-XXXXXX")"
  trap 'rm -f "$rendered"' EXIT
  "$kc" kustomize "$dir" > "$rendered" || die "kubectl kustomize $dir failed"

  local cmd="${1:-}"; shift || true
  case "$cmd" in
    render) cat "$rendered" ;;
    check) echo "overlay $overlay renders into namespace $ns: $(grep -c '^kind:' "$rendered") objects" ;;
    apply)
      if (( dry_run )); then printf '+ %s get namespace %s || %s create namespace %s\n' "$kc" "$ns" "$kc" "$ns"
      else "$kc" get namespace "$ns" >/dev/null 2>&1 || "$kc" create namespace "$ns"; fi
      # kubectl's own kustomize renders the same objects as the check above.
      run "$kc" apply -k "$dir"
      run "$kc" -n "$ns" rollout status statefulset/control --timeout=5m
      run "$kc" -n "$ns" rollout status deployment/edge --timeout=5m ;;
    diff) run "$kc" diff -k "$dir" ;;
    status) run "$kc" -n "$ns" get pods,svc,hpa,pvc -o wide ;;
    logs)
      [[ "${1:-}" =~ ^(control|media|transcoder|edge)$ ]] || die "logs <control|media|transcoder|edge>"
      run "$kc" -n "$ns" logs -l "app.kubernetes.io/name=$1" --prefix --tail=200 ;;
    restart)
      local -a targets=(statefulset/control statefulset/media statefulset/transcoder deployment/edge)
      if [[ -n "${1:-}" ]]; then
        case "$1" in control|media|transcoder) targets=("statefulset/$1") ;; edge) targets=(deployment/edge) ;; *) die "restart [control|media|transcoder|edge]" ;; esac
      fi
      run "$kc" -n "$ns" rollout restart "${targets[@]}" ;;
    scale)
      [[ "${1:-}" =~ ^(control|edge|transcoder)$ && "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "scale <control|edge|transcoder> <min>  (media is one origin: docs/architecture.md)"
      run "$kc" -n "$ns" patch hpa "$1" --type merge -p "{\"spec\":{\"minReplicas\":$2}}" ;;
    backup|restore)
      grep -q 'dependencies.yaml' "$dir/kustomization.yaml" || die "$overlay uses external MariaDB/Redis/S3: back them up with their own tools (docs/runbook.md, Back up and restore)"
      local bdir="${1:-}"; [[ -n "$bdir" ]] || die "$cmd <dir>"
      if [[ "$cmd" == backup ]]; then
        run mkdir -p "$bdir"
        run_out "$bdir/mariadb.sql" "$kc" -n "$ns" exec statefulset/mariadb -- sh -c "$MARIADB_DUMP"
        run_out "$bdir/minio-onair.tar" "$kc" -n "$ns" exec statefulset/minio -- sh -c "$MINIO_DUMP"
        run_out "$bdir/redis.rdb" "$kc" -n "$ns" exec statefulset/redis -- sh -c "$REDIS_DUMP"
      else
        if (( ! dry_run )); then [[ -s "$bdir/mariadb.sql" && -f "$bdir/minio-onair.tar" ]] || die "$bdir holds no mariadb.sql / minio-onair.tar"; fi
        run "$kc" -n "$ns" scale statefulset/control statefulset/transcoder --replicas=0
        run_in "$bdir/mariadb.sql" "$kc" -n "$ns" exec -i statefulset/mariadb -- sh -c "$MARIADB_LOAD"
        run_in "$bdir/minio-onair.tar" "$kc" -n "$ns" exec -i statefulset/minio -- sh -c "$MINIO_LOAD"
        run "$kc" -n "$ns" scale statefulset/control statefulset/transcoder --replicas=1
      fi ;;
    dead-letters)
      dead_letter_args "$@"
      run "$kc" -n "$ns" exec statefulset/control -- "${DEAD_LETTERS[@]}" "${dl_args[@]}" ;;
    *) usage ;;
  esac
}

case "${1:-}" in
  compose) shift; compose_main "$@" ;;
  k8s) shift; k8s_main "$@" ;;
  *) usage ;;
esac
