#!/usr/bin/env bash
# Deploy this checkout's commit to the GPU server, with rollback:
#   1. with -m MESSAGE: commit every change (nothing to commit is fine);
#   2. push the commit to DEPLOY_REMOTE as DEPLOY_BRANCH;
#   3. in one ssh session, run deployment/remote_deploy.sh on the server: it checks out exactly
#      that commit, runs setup.sh, restarts the services, waits for every one's health, and if
#      health does not come back checks out the previous commit and restarts that; it prints
#      status.sh's table at the end.
# Running it twice is safe: no new commit, and a server already on the commit with every service
# healthy is left as it is.
#
# Usage: deployment/deploy.sh [-m message]
# Settings come from deployment/deploy.env (git-ignored; copy deployment/deploy.env.example), or
# the file DEPLOY_ENV_FILE names: DEPLOY_HOST, DEPLOY_PATH (required), DEPLOY_USER (you),
# DEPLOY_PORT (22), DEPLOY_BRANCH (main), DEPLOY_REMOTE (origin), DEPLOY_SSH (ssh),
# DEPLOY_HEALTH_TIMEOUT (600 s per service).
# Exit status: 0 deployed and healthy; 1 not deployed (rolled back, or refused); 2 the rollback failed too.
set -euo pipefail

# shellcheck source=deployment/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

die() {
    echo "deploy.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: deployment/deploy.sh [-m message]" >&2
    exit 1
}

load_deploy_config() {
    local file="${DEPLOY_ENV_FILE:-$REPO_ROOT/deployment/deploy.env}"
    [[ -f "$file" ]] || die "no $(display_path "$file"): copy deployment/deploy.env.example to it and fill in your server"
    # shellcheck source=deployment/deploy.env.example
    source "$file"
    [[ -n "${DEPLOY_HOST:-}" ]] || die "DEPLOY_HOST is not set in $(display_path "$file")"
    [[ -n "${DEPLOY_PATH:-}" ]] || die "DEPLOY_PATH is not set in $(display_path "$file")"
    DEPLOY_USER="${DEPLOY_USER:-$(id -un)}"
    DEPLOY_PORT="${DEPLOY_PORT:-22}"
    DEPLOY_BRANCH="${DEPLOY_BRANCH:-main}"
    DEPLOY_REMOTE="${DEPLOY_REMOTE:-origin}"
    DEPLOY_SSH="${DEPLOY_SSH:-ssh}"
    DEPLOY_HEALTH_TIMEOUT="${DEPLOY_HEALTH_TIMEOUT:-600}"
    [[ "$DEPLOY_PORT" =~ ^[0-9]+$ ]] || die "DEPLOY_PORT must be a number, not '$DEPLOY_PORT'"
    [[ "$DEPLOY_HEALTH_TIMEOUT" =~ ^[0-9]+$ ]] || die "DEPLOY_HEALTH_TIMEOUT must be a whole number of seconds"
}

commit_changes() {
    local message="$1"
    if [[ -z "$(git status --porcelain)" ]]; then
        echo "Nothing to commit; deploying $(git rev-parse --short HEAD)."
        return 0
    fi
    git add -A
    git commit --quiet -m "$message"
    echo "Committed $(git rev-parse --short HEAD): $message"
}

main() {
    local message="" commit rc=0 option
    local -a ssh_command
    while getopts "m:h" option; do
        case "$option" in
            m) message="$OPTARG" ;;
            *) usage ;;
        esac
    done
    shift $((OPTIND - 1))
    (($# == 0)) || usage
    load_deploy_config
    cd "$REPO_ROOT"
    git rev-parse --verify --quiet HEAD >/dev/null || die "$REPO_ROOT has no commit to deploy"
    if [[ -n "$message" ]]; then
        commit_changes "$message"
    elif [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
        echo "Note: uncommitted changes are not deployed (deploy.sh -m 'message' commits them)." >&2
    fi
    commit="$(git rev-parse HEAD)"

    echo "Pushing $(git rev-parse --short HEAD) to $DEPLOY_REMOTE as $DEPLOY_BRANCH"
    git push --quiet "$DEPLOY_REMOTE" "$commit:refs/heads/$DEPLOY_BRANCH" \
        || die "push to $DEPLOY_REMOTE $DEPLOY_BRANCH was refused (someone else pushed? pull and merge first)"

    echo "Deploying $commit to $DEPLOY_USER@$DEPLOY_HOST:$DEPLOY_PATH (port $DEPLOY_PORT)"
    read -ra ssh_command <<<"$DEPLOY_SSH"
    # The server-side steps go over stdin, so the server needs nothing but its checkout; they then
    # run the setup.sh/startup.sh of the commit being deployed.
    "${ssh_command[@]}" -p "$DEPLOY_PORT" "$DEPLOY_USER@$DEPLOY_HOST" \
        "bash -s -- $(printf '%q ' "$DEPLOY_PATH" "$DEPLOY_BRANCH" "$commit" "$DEPLOY_HEALTH_TIMEOUT")" \
        <"$REPO_ROOT/deployment/remote_deploy.sh" || rc=$?
    case "$rc" in
        0) echo "deploy.sh: $commit is deployed and healthy on $DEPLOY_HOST." ;;
        1) echo "deploy.sh: $commit was NOT deployed on $DEPLOY_HOST (see above; the previous commit serves)." >&2 ;;
        *) echo "deploy.sh: deploying $commit on $DEPLOY_HOST failed (exit $rc) and so did the rollback: the service may be down." >&2 ;;
    esac
    exit "$rc"
}

main "$@"
