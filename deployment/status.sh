#!/usr/bin/env bash
# Print a table of the services: name, port, PID (ours, from $RUN_DIR), GPU, and health:
#   healthy          /health answers and (backends) the model is loaded
#   loading          the backend is up and still loading its model
#   unavailable: ... the backend is up but its model cannot load (the reason follows)
#   not installed    a GPU backend without its venv here (normal on a CPU machine)
#   down             no answer; "(stale PID file)" when the PID file names a process that is gone
#   starting         our process runs but does not answer yet
# Exit status: 0 when every installed service is healthy, 1 otherwise (deploy.sh relies on it).
#
# Environment: the same as startup.sh (ports, hosts, venvs: see load_service_config in lib.sh).
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_service_config

# health NAME PID: one word or phrase for the table; returns 0 when healthy.
health_of() {
    local name="$1" pid="$2" detail rc=0
    if [[ -n "${SERVICE_GPU[$name]:-}" ]] && ! gpu_backend_installed "$name"; then
        echo "not installed"
        return 2
    fi
    detail="$("$HELPER_PY" "$REPO_ROOT/deployment/health_probe.py" "$(health_url "$name")" "$(probe_mode "$name")")" \
        || rc=$?
    case "$rc" in
        0) echo "healthy" ;;
        3) echo "unavailable: $detail" ;;
        4) echo "loading" ;;
        *)
            if [[ -n "$pid" ]]; then
                echo "starting (no answer yet: $detail)"
            elif [[ -e "$(pid_file "$name")" ]]; then
                echo "down (stale PID file)"
            else
                echo "down"
            fi
            ;;
    esac
    return "$rc"
}

main() {
    local name pid gpu health rc=0 unhealthy=0
    HELPER_PY="$(helper_python)" || { echo "status.sh: no Python found" >&2; exit 1; }
    printf '%-14s %-6s %-8s %-4s %s\n' SERVICE PORT PID GPU HEALTH
    for name in "${SERVICES[@]}"; do
        pid="$(read_pid "$name")"
        if [[ -n "$pid" ]] && ! is_our_service "$name" "$pid"; then pid=""; fi
        gpu="${SERVICE_GPU[$name]:--}"
        rc=0
        health="$(health_of "$name" "$pid")" || rc=$?
        if ((rc != 0 && rc != 2)); then unhealthy=$((unhealthy + 1)); fi
        printf '%-14s %-6s %-8s %-4s %s\n' "$name" "${SERVICE_PORT[$name]}" "${pid:--}" "$gpu" "$health"
    done
    if command -v nvidia-smi >/dev/null 2>&1; then
        echo
        nvidia-smi --query-gpu=index,name,memory.used,memory.total,utilization.gpu --format=csv,noheader 2>/dev/null \
            | sed 's/^/GPU /' || true
    fi
    ((unhealthy == 0))
}

main "$@"
