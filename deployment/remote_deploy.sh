#!/usr/bin/env bash
# The server side of deploy.sh, which sends this file over ssh:
#   bash -s -- CHECKOUT BRANCH COMMIT HEALTH_TIMEOUT
# In the server's checkout: note the commit it runs now, fetch BRANCH from its origin, check out
# exactly COMMIT (detached), run setup.sh, restart the services (stop.sh, startup.sh: startup.sh
# waits for every service's health, up to HEALTH_TIMEOUT s each), print status.sh. If any step
# fails, stop, check out the previous commit, set it up and start it again.
# Per-server settings (ports, GPUs, models) live in the checkout's deployment/service.env.
# Exit status: 0 deployed; 1 rolled back (or refused before touching anything); 2 rollback failed.
set -uo pipefail

log() {
    echo "[server] $*"
}

refuse() {
    echo "[server] $*" >&2
    exit 1
}

# release COMMIT: check it out, set it up, (re)start everything; fails when a service is not healthy.
release() {
    git checkout --quiet --detach "$1" \
        && bash deployment/setup.sh \
        && bash deployment/stop.sh \
        && bash deployment/startup.sh \
        && bash deployment/status.sh
}

main() {
    (($# == 4)) || refuse "usage: remote_deploy.sh CHECKOUT BRANCH COMMIT HEALTH_TIMEOUT"
    local checkout="$1" branch="$2" commit="$3" previous
    export STARTUP_TIMEOUT="$4"
    cd "$checkout" 2>/dev/null || refuse "no checkout at $checkout: clone the repository there once (git clone <url> $checkout)"
    git rev-parse --verify --quiet HEAD >/dev/null || refuse "$checkout is not a git checkout with a commit"
    if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
        git status --short --untracked-files=no >&2
        refuse "$checkout has local changes to tracked files (above); not overwriting them: commit or stash them first"
    fi
    previous="$(git rev-parse HEAD)"
    log "running $previous; fetching $branch"
    git fetch --quiet origin "$branch" || refuse "git fetch origin $branch failed"
    git cat-file -e "$commit^{commit}" 2>/dev/null || refuse "commit $commit is not on the server's origin after the fetch"

    if [[ "$previous" == "$commit" ]] && bash deployment/status.sh >/dev/null 2>&1; then
        log "$commit is already deployed and every service is healthy: nothing to do"
        bash deployment/status.sh
        return 0
    fi
    log "deploying $commit"
    if release "$commit"; then
        log "deployed $commit"
        return 0
    fi
    log "deploying $commit FAILED; rolling back to $previous" >&2
    bash deployment/stop.sh
    if [[ "$previous" != "$commit" ]] && release "$previous"; then
        log "ROLLED BACK: $previous serves again; $commit is not deployed" >&2
        return 1
    fi
    log "ROLLBACK FAILED: $previous did not come back healthy either; services may be down" >&2
    return 2
}

main "$@"
