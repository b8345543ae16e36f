# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables set here are used by the scripts that source this file
# Helpers shared by startup.sh and stop.sh: where things live, which services exist, and how to tell
# that a PID is really one of our gunicorn masters. Sourced, never run.

# The repository root: gunicorn must run from here to import `shared`, `orchestrator` and `backends`.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The gunicorn app of every service; the command line of its processes names it.
declare -A SERVICE_APP=(
    [rapidocr]="backends.rapidocr_backend.wsgi:app"
    [tesseract]="backends.tesseract_backend.wsgi:app"
    [deepseek-ocr]="backends.deepseek_ocr.wsgi:app"
    [mineru]="backends.mineru_backend.wsgi:app"
    [orchestrator]="orchestrator.wsgi:app"
)

# A path given relative is taken relative to the caller's directory (resolved before we cd).
abspath() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$PWD/$1" ;;
    esac
}

# The same path shown relative to the repository when it lies inside it (for messages).
display_path() {
    case "$1" in
        "$REPO_ROOT"/*) printf '%s\n' "${1#"$REPO_ROOT"/}" ;;
        *) printf '%s\n' "$1" ;;
    esac
}

RUN_DIR="$(abspath "${RUN_DIR:-$REPO_ROOT/run}")"
LOG_DIR="$(abspath "${LOG_DIR:-$REPO_ROOT/logs}")"

pid_file() { printf '%s\n' "$RUN_DIR/$1.pid"; }
log_file() { printf '%s\n' "$LOG_DIR/$1.log"; }

# The PID recorded for a service, or nothing when there is no file or it holds no number.
read_pid() {
    local file pid
    file="$(pid_file "$1")"
    [[ -f "$file" ]] || return 0
    pid="$(head -n 1 "$file" 2>/dev/null | tr -d '[:space:]')"
    [[ "$pid" =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

# True while the process exists and has not exited. A zombie counts as gone: a dead master whose
# parent has not reaped it yet (startup.sh itself, or an init that never reaps) holds no port.
is_alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    # Field 3 (the state) follows the ")" that closes the command name, which may itself hold spaces.
    stat="${stat##*) }"
    [[ "${stat%% *}" != "Z" ]]
}

# The command line of a process, NULs turned into spaces.
cmdline_of() {
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# True when PID is a live gunicorn serving this service's app. A PID file can outlive its process
# and the number can be reused by anything; we never signal a process that fails this test.
# (With setproctitle installed gunicorn renames itself "gunicorn: master [app]": still matches.)
is_our_service() {
    local name="$1" pid="$2" cmd
    is_alive "$pid" || return 1
    cmd="$(cmdline_of "$pid")"
    [[ "$cmd" == *gunicorn* && "$cmd" == *"${SERVICE_APP[$name]}"* ]]
}

# All descendants of a process (gunicorn workers, and anything they started), deepest first.
descendants() {
    local file child children
    for file in /proc/"$1"/task/*/children; do
        children=()
        read -ra children 2>/dev/null <"$file" || true
        for child in "${children[@]}"; do
            descendants "$child"
            printf '%s\n' "$child"
        done
    done
}

# The services' settings from the environment (defaults in brackets), shared by startup.sh,
# status.sh and setup.sh. Per-server values can live in deployment/service.env (git-ignored,
# KEY=value lines), read here when the variable is not already set in the environment.
#   VENV (.venv)  DEEPSEEK_VENV (venvs/deepseek-ocr)  MINERU_VENV (venvs/mineru)  MODELS_DIR (models)
#   BACKEND_HOST (127.0.0.1)  RAPIDOCR_PORT (5002)  TESSERACT_PORT (5003)  DEEPSEEK_PORT (5000)
#   MINERU_PORT (5001)  DEEPSEEK_GPU (0)  MINERU_GPU (1)  ORCHESTRATOR_HOST (0.0.0.0)
#   ORCHESTRATOR_PORT (8080)  OCR_BACKENDS (every backend on 127.0.0.1 at the ports above)
load_service_config() {
    local file="${SERVICE_ENV_FILE:-$REPO_ROOT/deployment/service.env}" line key
    if [[ -f "$file" ]]; then
        while IFS= read -r line || [[ -n "$line" ]]; do
            [[ "$line" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
            key="${BASH_REMATCH[1]}"
            if [[ -z "${!key+set}" ]]; then export "$key=${BASH_REMATCH[2]}"; fi
        done <"$file"
    fi
    VENV="$(abspath "${VENV:-$REPO_ROOT/.venv}")"
    DEEPSEEK_VENV="$(abspath "${DEEPSEEK_VENV:-$REPO_ROOT/venvs/deepseek-ocr}")"
    MINERU_VENV="$(abspath "${MINERU_VENV:-$REPO_ROOT/venvs/mineru}")"
    MODELS_DIR="$(abspath "${MODELS_DIR:-$REPO_ROOT/models}")"
    BACKEND_HOST="${BACKEND_HOST:-127.0.0.1}"
    RAPIDOCR_PORT="${RAPIDOCR_PORT:-5002}"
    TESSERACT_PORT="${TESSERACT_PORT:-5003}"
    DEEPSEEK_PORT="${DEEPSEEK_PORT:-5000}"
    MINERU_PORT="${MINERU_PORT:-5001}"
    DEEPSEEK_GPU="${DEEPSEEK_GPU:-0}"
    MINERU_GPU="${MINERU_GPU:-1}"
    ORCHESTRATOR_HOST="${ORCHESTRATOR_HOST:-0.0.0.0}"
    ORCHESTRATOR_PORT="${ORCHESTRATOR_PORT:-8080}"
    # All backends, running or not: asking for one that is down then gets the orchestrator's clear 503.
    OCR_BACKENDS="${OCR_BACKENDS:-deepseek-ocr=http://127.0.0.1:$DEEPSEEK_PORT,mineru=http://127.0.0.1:$MINERU_PORT,rapidocr=http://127.0.0.1:$RAPIDOCR_PORT,tesseract=http://127.0.0.1:$TESSERACT_PORT}"
    SERVICES=(rapidocr tesseract deepseek-ocr mineru orchestrator)  # in start order
    declare -gA SERVICE_HOST=(
        [rapidocr]="$BACKEND_HOST" [tesseract]="$BACKEND_HOST" [deepseek-ocr]="$BACKEND_HOST"
        [mineru]="$BACKEND_HOST" [orchestrator]="$ORCHESTRATOR_HOST"
    )
    declare -gA SERVICE_PORT=(
        [rapidocr]="$RAPIDOCR_PORT" [tesseract]="$TESSERACT_PORT" [deepseek-ocr]="$DEEPSEEK_PORT"
        [mineru]="$MINERU_PORT" [orchestrator]="$ORCHESTRATOR_PORT"
    )
    declare -gA SERVICE_VENV=(
        [rapidocr]="$VENV" [tesseract]="$VENV" [deepseek-ocr]="$DEEPSEEK_VENV" [mineru]="$MINERU_VENV"
        [orchestrator]="$VENV"
    )
    # The GPU a GPU backend is pinned to (CUDA_VISIBLE_DEVICES); the others run on the CPU.
    declare -gA SERVICE_GPU=([deepseek-ocr]="$DEEPSEEK_GPU" [mineru]="$MINERU_GPU")
    # The package directory each service needs in the checkout.
    declare -gA SERVICE_PACKAGE=(
        [rapidocr]=backends/rapidocr_backend [tesseract]=backends/tesseract_backend
        [deepseek-ocr]=backends/deepseek_ocr [mineru]=backends/mineru_backend [orchestrator]=orchestrator
    )
}

# True when a GPU backend's venv (with gunicorn) and package exist: it is installed here.
gpu_backend_installed() {
    [[ -x "${SERVICE_VENV[$1]}/bin/gunicorn" && -d "$REPO_ROOT/${SERVICE_PACKAGE[$1]}" ]]
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

# The health URL of a service, as reached from this machine.
health_url() {
    printf 'http://%s:%s/health\n' "$(local_host "${SERVICE_HOST[$1]}")" "${SERVICE_PORT[$1]}"
}

# How health_probe.py judges a service: backends by their model, the orchestrator by any answer.
probe_mode() {
    if [[ "$1" == orchestrator ]]; then echo http; else echo model; fi
}

# A Python for the helpers (port checks, health probes): the main venv's, else the system's.
helper_python() {
    if [[ -x "$VENV/bin/python" ]]; then
        printf '%s\n' "$VENV/bin/python"
    else
        command -v python3
    fi
}

# Rotate LOG when it is larger than LOG_MAX_BYTES (50 MiB): LOG.1 is the latest old one, at most
# LOG_KEEP (5) are kept. Run by startup.sh before a service starts, so a log never outgrows
# the limit by more than one run; logs are opened in append mode, so logrotate's copytruncate
# also works for servers that run for months without a restart.
rotate_log() {
    local log="$1" max="${LOG_MAX_BYTES:-52428800}" keep="${LOG_KEEP:-5}" i size
    [[ -f "$log" ]] || return 0
    size="$(stat -c %s "$log")"
    ((size > max)) || return 0
    rm -f "$log.$keep"
    for ((i = keep - 1; i >= 1; i--)); do
        if [[ -f "$log.$i" ]]; then mv -f "$log.$i" "$log.$((i + 1))"; fi
    done
    if ((keep >= 1)); then mv -f "$log" "$log.1"; else rm -f "$log"; fi
}
