#!/usr/bin/env bash
# Start the OCR service: the backends (each under gunicorn, one model per process), then the
# orchestrator in front of them. Each service runs in the background with a PID file in $RUN_DIR
# and a log in $LOG_DIR; `bash deployment/stop.sh` stops them. Running this again starts only what
# is not running. Exit status: 0 when every service that should run is ready, 1 otherwise.
#
# Environment (default):
#   VENV (.venv)                       Python env of rapidocr and the orchestrator
#   BACKEND_HOST (127.0.0.1)           bind host of every backend
#   RAPIDOCR_PORT (5002)  TESSERACT_PORT (5003)
#   DEEPSEEK_PORT (5000)  DEEPSEEK_VENV (venvs/deepseek-ocr)  DEEPSEEK_GPU (0)
#   MINERU_PORT (5001)    MINERU_VENV (venvs/mineru)          MINERU_GPU (1)
#   ORCHESTRATOR_HOST (0.0.0.0)  ORCHESTRATOR_PORT (8080)
#   OCR_BACKENDS (all three backends on 127.0.0.1 at the ports above)
#   RUN_DIR (run)  LOG_DIR (logs)  STARTUP_TIMEOUT (180 s, per service)
# A GPU backend is started only when its venv (with bin/gunicorn) and its package exist.
# The rest of the environment reaches the services (see deployment/gunicorn/*.conf.py).
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VENV="$(abspath "${VENV:-$REPO_ROOT/.venv}")"
DEEPSEEK_VENV="$(abspath "${DEEPSEEK_VENV:-$REPO_ROOT/venvs/deepseek-ocr}")"
MINERU_VENV="$(abspath "${MINERU_VENV:-$REPO_ROOT/venvs/mineru}")"
BACKEND_HOST="${BACKEND_HOST:-127.0.0.1}"
RAPIDOCR_PORT="${RAPIDOCR_PORT:-5002}"
TESSERACT_PORT="${TESSERACT_PORT:-5003}"
DEEPSEEK_PORT="${DEEPSEEK_PORT:-5000}"
MINERU_PORT="${MINERU_PORT:-5001}"
DEEPSEEK_GPU="${DEEPSEEK_GPU:-0}"
MINERU_GPU="${MINERU_GPU:-1}"
ORCHESTRATOR_HOST="${ORCHESTRATOR_HOST:-0.0.0.0}"
ORCHESTRATOR_PORT="${ORCHESTRATOR_PORT:-8080}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-180}"
# All three, running or not: asking for one that is down then gets the orchestrator's clear 503.
OCR_BACKENDS="${OCR_BACKENDS:-deepseek-ocr=http://127.0.0.1:$DEEPSEEK_PORT,mineru=http://127.0.0.1:$MINERU_PORT,rapidocr=http://127.0.0.1:$RAPIDOCR_PORT,tesseract=http://127.0.0.1:$TESSERACT_PORT}"

GUNICORN_CONF_DIR="$REPO_ROOT/deployment/gunicorn"
SERVICES=(rapidocr tesseract deepseek-ocr mineru orchestrator)  # in start order, as the table lists them
declare -A SERVICE_HOST=(
    [rapidocr]="$BACKEND_HOST" [tesseract]="$BACKEND_HOST" [deepseek-ocr]="$BACKEND_HOST" [mineru]="$BACKEND_HOST"
    [orchestrator]="$ORCHESTRATOR_HOST"
)
declare -A SERVICE_PORT=(
    [rapidocr]="$RAPIDOCR_PORT" [tesseract]="$TESSERACT_PORT" [deepseek-ocr]="$DEEPSEEK_PORT" [mineru]="$MINERU_PORT"
    [orchestrator]="$ORCHESTRATOR_PORT"
)
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

# Where to reach a service bound to HOST from this machine.
local_host() {
    case "$1" in
        0.0.0.0) echo 127.0.0.1 ;;
        ::) echo '[::1]' ;;
        *:*) echo "[$1]" ;;
        *) echo "$1" ;;
    esac
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
    local name="$1" venv="$2" package="$3" gpu="$4"
    if [[ ! -x "$venv/bin/gunicorn" ]]; then
        echo "$name: not installed (no $(display_path "$venv")), skipped"
        STATUS[$name]="skipped (not installed)"
    elif [[ ! -d "$REPO_ROOT/$package" ]]; then
        echo "$name: not installed (no $package), skipped"
        STATUS[$name]="skipped (not installed)"
    else
        # One model process per GPU; many threads, so that concurrent requests reach the engine
        # together (vLLM batches them) and /health still answers while they run.
        start_service "$name" "$venv" backend.conf.py BACKEND_BIND "CUDA_VISIBLE_DEVICES=$gpu" \
            "BACKEND_THREADS=${GPU_BACKEND_THREADS:-64}"
    fi
}

# wait_ready NAME MODE: poll NAME's /health until it is ready. MODE "model": the JSON says
# model_loaded true (a backend); "http": any 200 (the orchestrator). Gives up when the master
# exits, when a backend reports its model failed to load, or after STARTUP_TIMEOUT seconds.
wait_ready() {
    local name="$1" mode="$2" url detail rc=0
    local pid="${PID[$name]}"
    url="http://$(local_host "${SERVICE_HOST[$name]}"):${SERVICE_PORT[$name]}/health"
    echo "$name: waiting for $url (up to ${STARTUP_TIMEOUT}s)"
    detail="$("$HELPER_PY" - "$pid" "$url" "$mode" "$STARTUP_TIMEOUT" <<'PY'
import json, os, sys, time, urllib.error, urllib.request

pid, url, mode, timeout = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
# No proxy: an http_proxy in the environment must not capture requests to localhost.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# With access configured, /health wants the backends' token or an orchestrator key (#8).
keys = [k.strip() for k in os.environ.get("ORCHESTRATOR_API_KEYS", "").split(",") if k.strip()]
headers = {**({"X-Backend-Token": os.environ["BACKEND_TOKEN"]} if os.environ.get("BACKEND_TOKEN") else {}),
           **({"X-API-Key": keys[0]} if keys else {})}


def alive() -> bool:
    """The master exists and is no zombie (it is our child until this script exits)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


deadline = time.monotonic() + timeout
last = "no answer yet"
while True:
    if not alive():
        print(f"process {pid} exited (last: {last})")
        sys.exit(2)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=5) as response:
            body = response.read()
        if mode == "http":
            print("answering")
            sys.exit(0)
        health = json.loads(body)
        if health.get("model_loaded") is True:
            print(health.get("model") or "model loaded")
            sys.exit(0)
        # "loading" (reason "loading the model") is worth waiting for; "unavailable" is final.
        if health.get("status") == "unavailable" and health.get("reason"):
            print(health["reason"])
            sys.exit(3)
        last = f"model_loaded={health.get('model_loaded')}"
    except urllib.error.HTTPError as exc:
        last = f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        last = str(getattr(exc, "reason", exc))
    if time.monotonic() >= deadline:
        print(last)
        sys.exit(1)
    time.sleep(0.5)
PY
)" || rc=$?

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
    if [[ -x "$VENV/bin/python" ]]; then
        HELPER_PY="$VENV/bin/python"
    else
        HELPER_PY="$(command -v python3)" || die "no Python found (run: make setup)"
    fi
    LAUNCHER=()
    if command -v setsid >/dev/null; then LAUNCHER=(setsid); fi

    cd "$REPO_ROOT"  # gunicorn imports the app packages from the current directory
    mkdir -p "$RUN_DIR" "$LOG_DIR"

    # Backends first: they load models. The GPU ones start alongside the CPU ones and are waited on after.
    start_service rapidocr "$VENV" backend.conf.py BACKEND_BIND
    start_service tesseract "$VENV" backend.conf.py BACKEND_BIND
    start_gpu_backend deepseek-ocr "$DEEPSEEK_VENV" backends/deepseek_ocr "$DEEPSEEK_GPU"
    start_gpu_backend mineru "$MINERU_VENV" backends/mineru_backend "$MINERU_GPU"
    for name in rapidocr tesseract deepseek-ocr mineru; do
        if to_wait_on "$name"; then wait_ready "$name" model; fi
    done

    start_service orchestrator "$VENV" orchestrator.conf.py ORCHESTRATOR_BIND "OCR_BACKENDS=$OCR_BACKENDS"
    if to_wait_on orchestrator; then wait_ready orchestrator http; fi

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
