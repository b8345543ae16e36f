# shellcheck shell=bash
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
