#!/usr/bin/env bash
# Stop the services startup.sh started, and nothing else: only the PIDs in $RUN_DIR's PID files, and
# only after checking that each still is our gunicorn (a PID can be reused by an unrelated process).
# SIGTERM lets gunicorn finish in-flight requests; whatever is still there after STOP_TIMEOUT
# seconds is SIGKILLed, master and workers. Exit status 0, also when nothing was running.
#
# Environment (default): RUN_DIR (run), STOP_TIMEOUT (30 s).
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STOP_TIMEOUT="${STOP_TIMEOUT:-30}"
[[ "$STOP_TIMEOUT" =~ ^[0-9]+$ ]] || { echo "stop.sh: STOP_TIMEOUT must be a whole number" >&2; exit 1; }
STOPPED=0

# The PIDs among PIDS that are still live processes of service NAME (same gunicorn command line).
# Workers are forked from the master without exec, so they carry the master's command line.
still_ours() {
    local name="$1" pid
    shift
    for pid in "$@"; do
        if is_our_service "$name" "$pid"; then printf '%s\n' "$pid"; fi
    done
}

# stop_services NAME...: SIGTERM each one's master, wait (together) until the masters and their
# workers are gone, SIGKILL what is left at STOP_TIMEOUT, and remove the PID files.
stop_services() {
    local name pid file deadline left
    local -a pids leftover
    local -A master=() family=()  # family: "master worker..." PIDs, space-separated
    for name in "$@"; do
        file="$(pid_file "$name")"
        [[ -e "$file" ]] || continue
        pid="$(read_pid "$name")"
        if [[ -z "$pid" ]] || ! is_our_service "$name" "$pid"; then
            echo "$name: stale PID file (pid ${pid:-none} is not our gunicorn), removed; nothing signalled"
            rm -f "$file"
            continue
        fi
        # Note the workers now: once the master is gone they can no longer be found through it.
        family[$name]="$pid $(descendants "$pid" | tr '\n' ' ')"
        master[$name]="$pid"
        echo "$name: stopping pid $pid (SIGTERM; gunicorn finishes in-flight requests)"
        kill -TERM "$pid" 2>/dev/null || true
    done
    ((${#master[@]})) || return 0

    deadline=$((SECONDS + STOP_TIMEOUT))
    while ((SECONDS < deadline)); do
        left=""
        for name in "${!master[@]}"; do
            read -ra pids <<<"${family[$name]}"
            left+="$(still_ours "$name" "${pids[@]}")"
        done
        [[ -n "$left" ]] || break
        sleep 0.2
    done

    for name in "$@"; do
        [[ -n "${master[$name]:-}" ]] || continue
        pid="${master[$name]}"
        read -ra pids <<<"${family[$name]}"
        mapfile -t leftover < <(still_ours "$name" "${pids[@]}")
        if ((${#leftover[@]})); then
            # Current descendants of a live master are ours whatever their command line (a model
            # server's helper processes); the PIDs noted earlier only if they still look like ours.
            if is_our_service "$name" "$pid"; then
                mapfile -t leftover < <({ printf '%s\n' "${leftover[@]}"; descendants "$pid"; } | sort -u)
            fi
            kill -KILL "${leftover[@]}" 2>/dev/null || true
            wait_gone "$name" "${pids[@]}"
            echo "$name: still running after ${STOP_TIMEOUT}s, killed (SIGKILL): ${leftover[*]}"
        else
            echo "$name: stopped (pid $pid)"
        fi
        # gunicorn removes its control socket on a clean exit, not when killed.
        rm -f "$(pid_file "$name")" "$RUN_DIR/$name.ctl"
        STOPPED=$((STOPPED + 1))
    done
}

# After a SIGKILL, give the kernel a moment (up to 5 s) so that the processes are gone on return.
wait_gone() {
    local name="$1" tries=0
    shift
    while [[ -n "$(still_ours "$name" "$@")" ]] && ((tries < 25)); do
        sleep 0.2
        tries=$((tries + 1))
    done
}

main() {
    if [[ ! -d "$RUN_DIR" ]]; then
        echo "Nothing to stop (no $(display_path "$RUN_DIR"))."
        return 0
    fi
    # The orchestrator first, so requests it is still proxying can finish on backends that are up.
    stop_services orchestrator
    stop_services rapidocr tesseract deepseek-ocr mineru
    if ((STOPPED == 0)); then
        echo "Nothing was running."
    fi
}

main "$@"
