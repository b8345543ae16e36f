#!/usr/bin/env bash
# Stop the OCR service: the orchestrator first, then the backends (SIGTERM: gunicorn finishes
# in-flight requests; supervisord SIGKILLs what is left after STOP_TIMEOUT, 30 s, master and
# workers), then supervisord itself. Only what our supervisord runs is touched.
# Exit status 0, also when nothing was running. Environment: RUN_DIR (run), STOP_TIMEOUT.
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

supervise stop
