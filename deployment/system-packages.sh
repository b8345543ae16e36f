#!/usr/bin/env bash
# Make sure the commands a make target needs are installed, from Debian's packages:
#   deployment/system-packages.sh COMMAND[:PACKAGE]...     (PACKAGE defaults to COMMAND)
# Run as root, it installs what is missing (apt-get update first); otherwise it stops at once with
# the exact command to run. Exit status 0 when every command is there (now), 1 otherwise.
# APT_GET (apt-get) names the installer, for the tests.
set -euo pipefail

main() {
    local spec command package
    local -a missing=()
    for spec in "$@"; do
        command="${spec%%:*}"
        package="${spec#*:}"
        command -v "$command" >/dev/null 2>&1 || missing+=("$package")
    done
    ((${#missing[@]})) || return 0
    local apt="${APT_GET:-apt-get}"
    if [[ "$(id -u)" != 0 ]]; then
        echo "Missing system packages: ${missing[*]}. Install them, then run this again:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "Installing system packages: ${missing[*]} (apt-get)"
    if ! { "$apt" update -qq && DEBIAN_FRONTEND=noninteractive "$apt" install -y -qq "${missing[@]}"; } >/dev/null; then
        echo "Could not install ${missing[*]} with apt-get (see above); install them and run this again." >&2
        return 1
    fi
    for spec in "$@"; do
        command -v "${spec%%:*}" >/dev/null 2>&1 || { echo "${spec%%:*} is still missing after apt-get install" >&2; return 1; }
    done
}

main "$@"
