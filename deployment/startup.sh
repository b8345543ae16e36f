#!/usr/bin/env bash
# Start the OCR service: the backends (each under gunicorn, one model per process), then the
# orchestrator in front of them. Each service runs in the background with a PID file in $RUN_DIR
# and a log in $LOG_DIR; `bash deployment/stop.sh` stops them. Running this again starts only what
# is not running. Exit status: 0 when every service that should run is ready, 1 otherwise.
#
# Environment (default): see load_service_config in lib.sh for ports, hosts, GPUs, venvs and
# deployment/service.env; besides:
#   RUN_DIR (run)  LOG_DIR (logs)  STARTUP_TIMEOUT (180 s, per service)
#   LOG_MAX_BYTES (50 MiB)  LOG_KEEP (5): a log over the size is rotated before its service starts
#   GPU_BACKEND_THREADS (64)  MODELS_DIR (models): DeepSeek-OCR weights in MODELS_DIR/DeepSeek-OCR and
#   MinerU's models in MODELS_DIR/mineru (setup.sh --models) are used when DEEPSEEK_MODEL /
#   MINERU_MODEL_BASE_DIR are not set.
# A GPU backend is started only when its venv (with bin/gunicorn) and its package exist.
# The rest of the environment reaches the services (see deployment/gunicorn/*.conf.py).
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_service_config
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-180}"
GUNICORN_CONF_DIR="$REPO_ROOT/deployment/gunicorn"
declare -A PID=()     # service -> gunicorn master PID
declare -A STATUS=()  # service -> started | already running | ready... | skipped... | FAILED: why
FAILED=()

die() {
    echo "startup.sh: $*" >&2
    exit 1
}

require_number() {
    [[ "${!1}" =~ ^[0-9]+$ ]] || die "$1 must be a whole number, not '${!1}'"
}

fail() {
    STATUS[$1]="FAILED: $2"
    FAILED+=("$1")
    echo "$1: FAILED: $2" >&2
}

# The last 30 lines the service wrote since this script's latest "starting" marker in its log
# (the log is appended to, so older runs' lines are not mistaken for this one's).
show_log_tail() {
    local log
    log="$(log_file "$1")"
    echo "---- last 30 lines of $(display_path "$log") ----" >&2
    awk '/^==== .* startup\.sh: starting / { section = "" } { section = section $0 "\n" } END { printf "%s", section }' \
        "$log" 2>/dev/null | tail -n 30 >&2 || true
    echo "---- end of $(display_path "$log") ----" >&2
}

# host:port as gunicorn's --bind wants it (an IPv6 address goes in brackets).
bind_address() {
    if [[ "$1" == *:* ]]; then printf '[%s]:%s\n' "$1" "$2"; else printf '%s:%s\n' "$1" "$2"; fi
}

# Succeeds when HOST:PORT can be bound; else prints why. SO_REUSEADDR as gunicorn sets it, so a
# port left in TIME_WAIT by a previous run does not count as taken.
port_free() {
    "$HELPER_PY" - "$1" "$2" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    sock.bind((host, port))
except OSError as exc:
    print(exc.strerror or exc)
    sys.exit(1)
finally:
    sock.close()
PY
}

# start_service NAME VENV_DIR CONF BIND_VAR [VAR=VALUE...]: start NAME's gunicorn in the
# background unless our gunicorn for it is already running. Extra VAR=VALUE go to its environment.
start_service() {
    local name="$1" venv="$2" conf="$3" bind_var="$4"
    shift 4
    local host="${SERVICE_HOST[$name]}" port="${SERVICE_PORT[$name]}"
    local pidfile log pid why
    local -a options=()
    pidfile="$(pid_file "$name")"
    log="$(log_file "$name")"

    pid="$(read_pid "$name")"
    if [[ -n "$pid" ]] && is_our_service "$name" "$pid"; then
        echo "$name: already running (pid $pid), not started again"
        PID[$name]="$pid"
        STATUS[$name]="already running"
        return 0
    fi
    if [[ -e "$pidfile" ]]; then
        echo "$name: removing stale PID file $(display_path "$pidfile")"
        rm -f "$pidfile"
    fi
    if [[ ! -x "$venv/bin/python" ]]; then
        fail "$name" "no Python environment at $(display_path "$venv") (run: make setup)"
        return 0
    fi
    if ! why="$(port_free "$host" "$port")"; then
        fail "$name" "port $port on $host is taken by another process ($why)"
        return 0
    fi

    # gunicorn >= 25.1 opens a control socket (for gunicornc) at one per-user default path, which
    # every gunicorn on the machine would fight over: give each service its own, in the run dir.
    if "$venv/bin/python" -c 'import gunicorn.config as c, sys; sys.exit(not hasattr(c, "ControlSocket"))' 2>/dev/null; then
        options+=(--control-socket "$RUN_DIR/$name.ctl")
    fi

    rotate_log "$log"
    printf '\n==== %s startup.sh: starting %s on %s ====\n' \
        "$(date '+%F %T')" "$name" "$(bind_address "$host" "$port")" >>"$log"
    # setsid puts the service in its own session, so Ctrl-C in (or closing) the terminal that ran
    # this script does not reach it. A non-interactive shell's background child leads no process
    # group, so setsid does not fork and $! is the gunicorn master itself. All three standard
    # streams are detached so that whoever runs this script (a pipe, CI) is not left waiting.
    env "$@" "$bind_var=$(bind_address "$host" "$port")" PYTHONUNBUFFERED=1 \
        "${LAUNCHER[@]}" "$venv/bin/python" -m gunicorn \
        -c "$GUNICORN_CONF_DIR/$conf" "${options[@]}" "${SERVICE_APP[$name]}" \
        </dev/null >>"$log" 2>&1 &
    PID[$name]=$!
    echo "${PID[$name]}" >"$pidfile"
    STATUS[$name]="started"
    echo "$name: starting on $(bind_address "$host" "$port") (pid ${PID[$name]}, log $(display_path "$log"))"
}

# A GPU backend runs in its own venv (its torch/vllm pins clash with the main one); no venv or no
# package means it is not installed here, which is normal on a CPU-only machine.
start_gpu_backend() {
    local name="$1"
    local -a model_env=()
    if ! gpu_backend_installed "$name"; then
        echo "$name: not installed (no $(display_path "${SERVICE_VENV[$name]}") or ${SERVICE_PACKAGE[$name]}), skipped (run: deployment/setup.sh on a GPU machine)"
        STATUS[$name]="skipped (not installed)"
        return 0
    fi
    # Models fetched by `setup.sh --models`, unless the environment names others.
    if [[ "$name" == deepseek-ocr && -z "${DEEPSEEK_MODEL:-}" && -d "$MODELS_DIR/DeepSeek-OCR" ]]; then
        model_env+=("DEEPSEEK_MODEL=$MODELS_DIR/DeepSeek-OCR")
    fi
    if [[ "$name" == mineru && -z "${MINERU_MODEL_BASE_DIR:-}" && -d "$MODELS_DIR/mineru" ]]; then
        model_env+=("MINERU_MODEL_BASE_DIR=$MODELS_DIR/mineru")
    fi
    # One model process per GPU; many threads, so that concurrent requests reach the engine
    # together (vLLM batches them) and /health still answers while they run.
    start_service "$name" "${SERVICE_VENV[$name]}" backend.conf.py BACKEND_BIND \
        "CUDA_VISIBLE_DEVICES=${SERVICE_GPU[$name]}" "BACKEND_THREADS=${GPU_BACKEND_THREADS:-64}" "${model_env[@]}"
}

# wait_ready NAME: poll NAME's /health (deployment/health_probe.py) until it is ready: a backend's
# model loaded, the orchestrator answering. Gives up when the master exits, when a backend reports
# its model failed to load, or after STARTUP_TIMEOUT seconds.
wait_ready() {
    local name="$1" url detail rc=0
    local pid="${PID[$name]}"
    url="$(health_url "$name")"
    echo "$name: waiting for $url (up to ${STARTUP_TIMEOUT}s)"
    detail="$("$HELPER_PY" "$REPO_ROOT/deployment/health_probe.py" "$url" "$(probe_mode "$name")" \
        --wait "$STARTUP_TIMEOUT" --pid "$pid")" || rc=$?

    case "$rc" in
        0)
            if [[ "${STATUS[$name]}" == "already running" ]]; then
                STATUS[$name]="ready (already running)"
            else
                STATUS[$name]="ready"
            fi
            echo "$name: ready ($detail)"
            ;;
        2)
            fail "$name" "exited during startup: $detail"
            show_log_tail "$name"
            rm -f "$(pid_file "$name")"
            unset "PID[$name]"
            ;;
        3)
            fail "$name" "model not loaded: $detail"
            show_log_tail "$name"
            echo "$name: left running (pid $pid); its /health reports the reason" >&2
            ;;
        *)
            fail "$name" "not ready after ${STARTUP_TIMEOUT}s ($detail)"
            show_log_tail "$name"
            echo "$name: left running (pid $pid); stop.sh stops it" >&2
            ;;
    esac
}

# True when NAME was started or found running, i.e. there is something to wait for.
to_wait_on() {
    [[ "${STATUS[$1]:-}" == "started" || "${STATUS[$1]:-}" == "already running" ]]
}

print_table() {
    local name
    printf '\n%-14s %-6s %-8s %s\n' SERVICE PORT PID STATUS
    for name in "${SERVICES[@]}"; do
        printf '%-14s %-6s %-8s %s\n' "$name" "${SERVICE_PORT[$name]}" "${PID[$name]:--}" "${STATUS[$name]:-not started}"
    done
    echo
}

main() {
    local name var stop_cmd="bash deployment/stop.sh" url
    for var in RAPIDOCR_PORT TESSERACT_PORT DEEPSEEK_PORT MINERU_PORT ORCHESTRATOR_PORT STARTUP_TIMEOUT; do
        require_number "$var"
    done
    # Two services on one port: the second would answer for the first, under the wrong name.
    local -A port_owner=()
    for name in "${SERVICES[@]}"; do
        var="${SERVICE_HOST[$name]}:${SERVICE_PORT[$name]}"
        [[ -z "${port_owner[$var]:-}" ]] || die "${port_owner[$var]} and $name are both set to port ${SERVICE_PORT[$name]}"
        port_owner[$var]="$name"
    done
    # The waits and port checks need a Python; the main venv's, or the system's if it is missing.
    HELPER_PY="$(helper_python)" || die "no Python found (run: make setup)"
    LAUNCHER=()
    if command -v setsid >/dev/null; then LAUNCHER=(setsid); fi

    cd "$REPO_ROOT"  # gunicorn imports the app packages from the current directory
    mkdir -p "$RUN_DIR" "$LOG_DIR"

    # Backends first: they load models. The GPU ones start alongside the CPU ones and are waited on after.
    start_service rapidocr "$VENV" backend.conf.py BACKEND_BIND
    start_service tesseract "$VENV" backend.conf.py BACKEND_BIND
    start_gpu_backend deepseek-ocr
    start_gpu_backend mineru
    for name in rapidocr tesseract deepseek-ocr mineru; do
        if to_wait_on "$name"; then wait_ready "$name"; fi
    done

    start_service orchestrator "$VENV" orchestrator.conf.py ORCHESTRATOR_BIND "OCR_BACKENDS=$OCR_BACKENDS"
    if to_wait_on orchestrator; then wait_ready orchestrator; fi

    print_table
    if [[ "$RUN_DIR" != "$REPO_ROOT/run" ]]; then stop_cmd="RUN_DIR=$RUN_DIR $stop_cmd"; fi
    if [[ "${STATUS[orchestrator]}" == ready* ]]; then
        url="http://localhost:$ORCHESTRATOR_PORT"
        case "$ORCHESTRATOR_HOST" in
            0.0.0.0 | :: | 127.0.0.1 | localhost) ;;
            *) url="http://$(local_host "$ORCHESTRATOR_HOST"):$ORCHESTRATOR_PORT" ;;
        esac
        echo "Orchestrator: $url  (try: curl -F file=@page.png -F backend=rapidocr $url/ocr)"
    fi
    echo "Logs: $(display_path "$LOG_DIR")/   Stop: $stop_cmd"
    if ((${#FAILED[@]})); then
        echo "Failed: ${FAILED[*]}. Whatever else is running is left running (stop all: $stop_cmd)." >&2
        exit 1
    fi
}

main "$@"
