# shellcheck shell=bash
# Helpers shared by the deployment scripts. Sourced, never run. The services themselves are listed
# once, in deployment/services.toml; deployment/plan.py applies this machine's settings to them.

# The repository root: gunicorn runs from here to import `shared`, `orchestrator` and `backends`.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# A path shown relative to the repository when it lies inside it (for messages).
display_path() {
    case "$1" in
        "$REPO_ROOT"/*) printf '%s\n' "${1#"$REPO_ROOT"/}" ;;
        *) printf '%s\n' "$1" ;;
    esac
}

# A Python that can read the catalogue: the main venv's (VENV, else .venv), else the system's
# (Python >= 3.11 for tomllib; set PYTHON to choose one).
catalogue_python() {
    local venv="${VENV:-$REPO_ROOT/.venv}"
    if [[ -x "$venv/bin/python" ]]; then
        printf '%s\n' "$venv/bin/python"
    else
        command -v "${PYTHON:-python3}"
    fi
}

# run_module MODULE ARGS...: one of the deployment's Python modules, from the caller's directory
# (paths given in the environment are relative to it), with the checkout importable.
run_module() {
    local python="$1"
    shift
    PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$python" -m "$@"
}

# Sets VENV, MODELS_DIR, LOG_DIR, RUN_DIR, SERVICES, OWN_VENV_BACKENDS, GPU_COUNT and the SERVICE_*
# arrays from the catalogue with this machine's settings (environment, deployment/service.env).
load_service_config() {
    local python declarations
    python="$(catalogue_python)" || { echo "no Python found (install python3 >= 3.11, or set PYTHON)" >&2; return 1; }
    declarations="$(run_module "$python" deployment.plan shell)" || return 1
    eval "$declarations"
}

# supervise COMMAND...: become deployment/supervision.py in the main venv (supervisor lives there).
# exec: under systemd, `startup.sh --foreground` is then supervisord itself, the unit's main process.
supervise() {
    load_service_config || exit 1  # VENV may come from deployment/service.env
    local venv="$VENV"
    if [[ ! -x "$venv/bin/supervisord" ]]; then
        echo "no supervisord in $(display_path "$venv") (run: make setup)" >&2
        exit 1
    fi
    PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$venv/bin/python" -m deployment.supervision "$@"
}
