#!/usr/bin/env bash
# Build the Python environments, one per service, each from its own pinned requirements; idempotent:
# an environment whose requirements have not changed since it was built (a stamp file named by
# their checksum) is left alone, so a second run installs nothing.
#
#   VENV (.venv)   the orchestrator, the supervisor and the backends that share it: pyproject.toml's
#                  dependencies and MAIN_EXTRAS (the catalogue's main_extras and those backends'
#                  extras). Only the dependencies: the code runs from the checkout (gunicorn runs
#                  from the repository root), so a code-only deploy installs nothing.
#   <PREFIX>_VENV  each backend with its own venv in deployment/services.toml (DEEPSEEK_VENV,
#                  venvs/deepseek-ocr, from backends/deepseek_ocr/requirements.txt; MINERU_VENV...).
# A backend that needs its GPU is built only where `nvidia-smi -L` lists the GPU it is pinned to
# (DEEPSEEK_GPU, MINERU_GPU); SETUP_GPU=none skips them, SETUP_GPU=all builds them without looking.
#
# Usage: deployment/setup.sh [--models]
#   --models   also download the models (needs internet): DeepSeek-OCR's weights from the Hugging
#              Face hub (DEEPSEEK_HF_REPO, deepseek-ai/DeepSeek-OCR) into MODELS_DIR/DeepSeek-OCR,
#              MinerU's with its own `mineru-kit models download --tier MINERU_TIER` (standard) into
#              MODELS_DIR/mineru. startup.sh uses both. Models already there are not fetched again.
# Other settings: SETUP_SERVICES (main and every backend with its own venv) the environments to consider (the
# container images build one each); PYTHON (python3) makes the venvs; NVIDIA_SMI (nvidia-smi); LOG_DIR (logs) holds
# setup-<env>.log with pip's output. Exit status 0 when everything asked for is installed (GPU
# backends skipped for want of a GPU count as done), 1 when an install or download failed.
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_service_config
PYTHON="${PYTHON:-python3}"
SETUP_GPU="${SETUP_GPU:-auto}"
MAIN_EXTRAS="${MAIN_EXTRAS:-$CATALOGUE_MAIN_EXTRAS}"
SETUP_SERVICES="${SETUP_SERVICES:-main ${OWN_VENV_BACKENDS[*]}}"
NVIDIA_SMI="${NVIDIA_SMI:-nvidia-smi}"
DEEPSEEK_HF_REPO="${DEEPSEEK_HF_REPO:-deepseek-ai/DeepSeek-OCR}"
MINERU_TIER="${MINERU_TIER:-standard}"
# MinerU's models come per deployment tier: auto and advanced serve with standard's, flash OCRs scans with basic's.
case "$MINERU_TIER" in auto | advanced) MINERU_TIER=standard ;; flash) MINERU_TIER=basic ;; esac
FAILED=()

usage() {
    echo "usage: deployment/setup.sh [--models]" >&2
    exit 2
}

fail() {
    FAILED+=("$1")
    echo "$1: FAILED: $2" >&2
}

# cksum of the files' contents (and of any extra words), for the stamp names.
checksum() {
    local extra="$1"
    shift
    { cat "$@"; printf '%s\n' "$extra"; } | cksum | cut -d' ' -f1
}

# ensure_venv NAME DIR SUM PIP-ARGS...: build DIR unless its stamp for SUM is there. A failed
# install of a GPU environment removes it (a half-installed one would be started by startup.sh).
ensure_venv() {
    local name="$1" dir="$2" sum="$3" log
    shift 3
    log="$LOG_DIR/setup-$name.log"
    if [[ -f "$dir/.setup-$sum" ]]; then
        echo "$name: up to date ($(display_path "$dir"))"
        return 0
    fi
    mkdir -p "$LOG_DIR"
    echo "$name: installing into $(display_path "$dir") (pip's output: $(display_path "$log"))"
    printf '\n==== %s setup.sh: %s ====\n' "$(date '+%F %T')" "$name" >>"$log"
    # A new venv gets a current pip first (old ones cannot read some wheels' metadata).
    if { [[ -x "$dir/bin/python" ]] || { "$PYTHON" -m venv "$dir" && "$dir/bin/python" -m pip install --upgrade pip; }; } \
        >>"$log" 2>&1 && "$dir/bin/python" -m pip install "$@" >>"$log" 2>&1; then
        rm -f "$dir"/.setup-*
        touch "$dir/.setup-$sum"
        echo "$name: installed"
        return 0
    fi
    echo "---- last 15 lines of $(display_path "$log") ----" >&2
    tail -n 15 "$log" >&2
    if [[ "$dir" != "$VENV" ]]; then
        rm -rf "$dir"
        fail "$name" "could not install its requirements (no wheel for this platform or Python, or no network?); $(display_path "$dir") removed, the backend stays not installed"
    else
        fail "$name" "could not install its requirements (see $(display_path "$log"))"
    fi
    return 1
}

# The main environment: pyproject.toml's dependencies and extras, read with tomllib (Python >= 3.11).
setup_main() {
    local requirements sum
    requirements="$("$PYTHON" - "$REPO_ROOT/pyproject.toml" "$MAIN_EXTRAS" <<'PY'
import sys
try:
    import tomllib
except ModuleNotFoundError:
    sys.exit("setup.sh needs Python >= 3.11 (tomllib) to read pyproject.toml; set PYTHON=python3.11")
with open(sys.argv[1], "rb") as file:
    project = tomllib.load(file)["project"]
extras = [extra for extra in sys.argv[2].split(",") if extra]
for extra in extras:
    if extra not in project["optional-dependencies"]:
        sys.exit(f"MAIN_EXTRAS names {extra!r}, which pyproject.toml does not define")
for requirement in project["dependencies"] + [r for extra in extras for r in project["optional-dependencies"][extra]]:
    print(requirement)
PY
)" || { fail main "could not read pyproject.toml"; return 1; }
    sum="$(checksum "$requirements" "$REPO_ROOT/pyproject.toml")"
    local -a args=()
    mapfile -t args <<<"$requirements"
    ensure_venv main "$VENV" "$sum" "${args[@]}"
}

# True when a backend's venv (with gunicorn) and package exist: it is installed here.
backend_installed() {
    [[ -x "${SERVICE_VENV[$1]}/bin/gunicorn" && -d "${SERVICE_PACKAGE[$1]}" ]]
}

# True when a backend pinned to GPU $2 should be built here (SETUP_GPU; nvidia-smi's count), else
# says why it is skipped.
gpu_wanted() {
    local name="$1" gpu="$2"
    case "$SETUP_GPU" in
        none)
            echo "$name: skipped (SETUP_GPU=none)"
            return 1
            ;;
        auto)
            if ((GPU_COUNT == 0)); then
                echo "$name: skipped: no GPU here ($NVIDIA_SMI lists none). The CPU backends and the orchestrator are set up; on a GPU server install the NVIDIA driver and run setup.sh again (SETUP_GPU=all installs without looking)."
                return 1
            fi
            if ! [[ "$gpu" =~ ^[0-9]+$ ]] || ((gpu >= GPU_COUNT)); then
                echo "$name: skipped: it is pinned to GPU $gpu and $NVIDIA_SMI lists $GPU_COUNT GPU(s) (set its *_GPU to one that exists)"
                return 1
            fi
            ;;
        all) ;;
        *)
            fail "$name" "SETUP_GPU must be auto, none or all, not '$SETUP_GPU'"
            return 1
            ;;
    esac
}

# A backend with its own venv from its own requirements; one that needs a GPU only where that GPU is.
setup_own_venv() {
    local name="$1" gpu="${SERVICE_NEEDS_GPU[$1]:-}" requirements="${SERVICE_REQUIREMENTS[$1]}"
    if [[ -n "$gpu" ]] && ! gpu_wanted "$name" "$gpu"; then return 0; fi
    # A backend pinned to a GPU that also runs without it (without_gpu) gets requirements-cpu.txt
    # beside its requirements where that GPU is not here (SETUP_GPU=all: the GPU ones).
    local pinned="${SERVICE_GPU[$name]:-}" cpu
    cpu="$(dirname "$requirements")/requirements-cpu.txt"
    if [[ -n "$pinned" && -f "$cpu" && "$SETUP_GPU" != all ]] \
        && { [[ "$SETUP_GPU" == none ]] || ! [[ "$pinned" =~ ^[0-9]+$ ]] || ((pinned >= GPU_COUNT)); }; then
        echo "$name: no GPU $pinned here: the CPU requirements ($(display_path "$cpu"))"
        requirements="$cpu"
    fi
    # A constraints.txt beside the requirements (pinned versions, `-c` in them) is part of the stamp.
    local -a inputs=("$requirements" "$REPO_ROOT/backends/server-requirements.txt")
    if [[ -f "$(dirname "$requirements")/constraints.txt" ]]; then inputs+=("$(dirname "$requirements")/constraints.txt"); fi
    ensure_venv "$name" "${SERVICE_VENV[$name]}" "$(checksum "" "${inputs[@]}")" -r "$requirements" || true
}

download_models() {
    local target="$MODELS_DIR/DeepSeek-OCR" hf
    mkdir -p "$MODELS_DIR"
    if ! backend_installed deepseek-ocr; then
        echo "deepseek-ocr models: skipped (the backend is not installed here)"
    elif [[ -f "$target/.setup-complete" ]]; then
        echo "deepseek-ocr models: already in $(display_path "$target")"
    else
        hf="${SERVICE_VENV[deepseek-ocr]}/bin/hf"
        [[ -x "$hf" ]] || hf="${SERVICE_VENV[deepseek-ocr]}/bin/huggingface-cli"
        echo "deepseek-ocr models: downloading $DEEPSEEK_HF_REPO into $(display_path "$target")"
        if [[ -x "$hf" ]] && "$hf" download "$DEEPSEEK_HF_REPO" --local-dir "$target"; then
            touch "$target/.setup-complete"
        else
            fail "deepseek-ocr models" "download of $DEEPSEEK_HF_REPO failed (no internet, or no hf command in $(display_path "${SERVICE_VENV[deepseek-ocr]}")?)"
        fi
    fi
    if ! backend_installed mineru; then
        echo "mineru models: skipped (the backend is not installed here)"
    elif MINERU_MODEL_BASE_DIR="$MODELS_DIR/mineru" "${SERVICE_VENV[mineru]}/bin/mineru-kit" models verify --tier "$MINERU_TIER" \
        >/dev/null 2>&1; then
        echo "mineru models: tier $MINERU_TIER already in $(display_path "$MODELS_DIR/mineru")"
    else
        echo "mineru models: downloading tier $MINERU_TIER into $(display_path "$MODELS_DIR/mineru")"
        MINERU_MODEL_BASE_DIR="$MODELS_DIR/mineru" "${SERVICE_VENV[mineru]}/bin/mineru-kit" models download --tier "$MINERU_TIER" \
            || fail "mineru models" "mineru-kit models download --tier $MINERU_TIER failed (no internet?)"
    fi
}

main() {
    local models=0 name
    while (($#)); do
        case "$1" in
            --models) models=1 ;;
            *) usage ;;
        esac
        shift
    done
    command -v "$PYTHON" >/dev/null || { echo "setup.sh: no $PYTHON found (set PYTHON)" >&2; exit 1; }
    for name in $SETUP_SERVICES; do
        case "$name" in
            main) setup_main || true ;;
            *)
                if [[ -n "${SERVICE_REQUIREMENTS[$name]:-}" ]]; then
                    setup_own_venv "$name"
                else
                    fail "$name" "SETUP_SERVICES names '$name'; known: main ${OWN_VENV_BACKENDS[*]}"
                fi
                ;;
        esac
    done
    if ((models)); then download_models; fi
    if ((${#FAILED[@]})); then
        echo "setup.sh: failed: ${FAILED[*]}" >&2
        exit 1
    fi
    echo "setup.sh: done"
}

main "$@"
