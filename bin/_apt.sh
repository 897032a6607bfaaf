# shellcheck shell=bash
# Sourced by bin/test: install Debian packages the tests need (chromium, fonts, nginx), the way an
# operator would, and say why when it fails.
#
# install_system_packages PACKAGE…
#   apt-get install as root, or through sudo (never waiting for a password without a terminal).
#   Another apt/dpkg run (unattended-upgrades, a second bin/test, an agent next door) holds the
#   package locks for minutes: apt itself waits for the dpkg lock (DPkg::Lock::Timeout), and a
#   run that still reports a held lock (apt-get update's lists lock is not covered by that option)
#   is retried every 5 s until APT_LOCK_TIMEOUT (default 600 s) has passed. When the install fails
#   for another reason, apt's own error lines are printed (no network, package not found, sudo
#   wanting a password), not just "failed".

_ztc_apt_locked() {
    grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory|is held by process' "$1"
}

# _ztc_apt LOG ARGS…: run apt-get ARGS, appending its output to LOG, retrying while a lock is held.
_ztc_apt() {
    local log=$1
    shift
    local deadline=$((SECONDS + ${APT_LOCK_TIMEOUT:-600}))
    local attempt
    while :; do
        attempt="$(mktemp)"
        if "${_ztc_apt_cmd[@]}" "$@" >"$attempt" 2>&1; then
            cat "$attempt" >>"$log"
            rm -f "$attempt"
            return 0
        fi
        cat "$attempt" >>"$log"
        if _ztc_apt_locked "$attempt" && ((SECONDS < deadline)); then
            rm -f "$attempt"
            printf 'waiting for the package manager lock held by another apt/dpkg run…\n' >&2
            sleep "${APT_LOCK_RETRY_SECONDS:-5}"
            continue
        fi
        rm -f "$attempt"
        return 1
    done
}

install_system_packages() {
    local -a as_root=()
    if [[ "$(id -u)" != 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "cannot install $*: not root and sudo is not installed" >&2
            return 1
        fi
        as_root=(sudo)
        [[ -t 0 ]] || as_root=(sudo -n)  # no terminal: never wait for a password
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "cannot install $*: apt-get not found (not Debian/Ubuntu?)" >&2
        return 1
    fi
    _ztc_apt_cmd=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive
        apt-get -q -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-600}")
    local log
    log="$(mktemp)"
    # A stale package index is the usual cause on a fresh machine: update once and retry.
    if _ztc_apt "$log" install -y "$@" || { _ztc_apt "$log" update && _ztc_apt "$log" install -y "$@"; }; then
        rm -f "$log"
        return 0
    fi
    echo "apt-get install $* failed; apt said:" >&2
    if grep -E '^(E|W|Err):|sudo:' "$log" | tail -n 8 | sed 's/^/    /' >&2 && grep -qE '^(E|W|Err):|sudo:' "$log"; then
        :
    else
        tail -n 8 "$log" | sed 's/^/    /' >&2
    fi
    rm -f "$log"
    return 1
}
