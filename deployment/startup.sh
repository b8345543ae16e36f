#!/usr/bin/env bash
# Start the OCR service: every service in deployment/services.toml that is installed here (a GPU
# backend needs its venv and its GPU) under supervisord, which restarts a service that dies. Then
# wait until each is ready, send each ready backend a page of known text through the orchestrator
# (the smoke gate, deployment/smoke) and print a table. Running it again starts only what is not
# running, and restarts a service whose settings changed.
# Exit status: 0 when every service that should run is ready and passed the gate, 1 otherwise.
#
#   deployment/startup.sh               start, wait, smoke, table
#   deployment/startup.sh --foreground  supervisord in the foreground (the systemd unit's command)
#
# Settings (environment or deployment/service.env): ports, hosts, GPUs, venvs (see deployment/plan.py),
# STARTUP_TIMEOUT (180 s), STOP_TIMEOUT (30 s), LOG_MAX_BYTES (50 MiB), LOG_KEEP (5), RUN_DIR (run),
# LOG_DIR (logs). The rest of the environment reaches the services (see deployment/gunicorn/*.conf.py).
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

supervise start "$@"
