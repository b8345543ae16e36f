#!/usr/bin/env bash
# A table of the services: SERVICE PORT PID GPU SMOKE HEALTH.
#   SMOKE    the last smoke gate (known text through the orchestrator): pass, FAIL, or - (not run)
#   HEALTH   healthy | loading | unavailable: <reason> | starting (...) | down (...) | not installed
# Exit status: 0 when every service that should run here is healthy and none failed its last smoke
# gate, 1 otherwise (deploy.sh relies on it). Settings: as startup.sh.
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

supervise status
