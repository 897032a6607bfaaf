# shellcheck shell=bash
# Sourced by bin/run and bin/test: make sure .venv exists and holds the project as
# pyproject.toml describes it. `pip install -e '.[dev]'` runs only when pyproject.toml
# changed since the last successful install (a stamp file in var/ keeps its hash).
#
# After `ensure_venv`, .venv/bin is first on PATH, so `python`, `ruff`, `celery` are the venv's.

ZTC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ZTC_VENV="$ZTC_ROOT/.venv"
ZTC_STAMP="$ZTC_ROOT/var/.pip-install.stamp"

ztc_log() {
    if [[ -t 2 ]]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}

ensure_venv() {
    local py="${PYTHON:-python3}"
    if ! command -v "$py" >/dev/null 2>&1; then
        echo "error: $py not found; install Python 3.11+ (apt-get install python3 python3-venv)" >&2
        return 1
    fi
    if [[ ! -x "$ZTC_VENV/bin/python" ]]; then
        if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "error: Python 3.11+ is required, $py is $("$py" -V 2>&1)" >&2
            return 1
        fi
        ztc_log "creating .venv with $("$py" -V 2>&1)"
        if ! "$py" -m venv "$ZTC_VENV"; then
            echo "error: '$py -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
            rm -rf "$ZTC_VENV"
            return 1
        fi
        rm -f "$ZTC_STAMP"
    fi

    local want have=""
    want="$(sha256sum "$ZTC_ROOT/pyproject.toml" | cut -d' ' -f1)"
    [[ -f "$ZTC_STAMP" ]] && have="$(cat "$ZTC_STAMP")"
    if [[ "$want" != "$have" ]]; then
        ztc_log "installing the project into .venv (pip install -e '.[dev]')"
        (cd "$ZTC_ROOT" && "$ZTC_VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[dev]')
        mkdir -p "$ZTC_ROOT/var"
        printf '%s\n' "$want" >"$ZTC_STAMP"
    fi

    export VIRTUAL_ENV="$ZTC_VENV"
    export PATH="$ZTC_VENV/bin:$PATH"
    unset PYTHONHOME
}

# Apache ECharts for the dashboard's charts, served by the portal itself (never a CDN; see
# docs/decisions/0005-echarts-assets.md): `npm ci` into node_modules/ (git-ignored) when
# package-lock.json changed since the last successful install. Never fatal: without npm (or
# without the registry) the portal runs, and the dashboard shows its tables with a note.
ZTC_NPM_STAMP="$ZTC_ROOT/var/.npm-ci.stamp"

ensure_echarts() {
    [[ -f "$ZTC_ROOT/package-lock.json" ]] || return 0
    local want have=""
    want="$(sha256sum "$ZTC_ROOT/package-lock.json" | cut -d' ' -f1)"
    [[ -f "$ZTC_NPM_STAMP" ]] && have="$(cat "$ZTC_NPM_STAMP")"
    if [[ "$want" == "$have" && -f "$ZTC_ROOT/node_modules/echarts/dist/echarts.common.min.js" ]]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        ztc_log "npm not found: the dashboard will show tables without charts (apt-get install npm, then rerun)"
        return 0
    fi
    ztc_log "installing Apache ECharts for the dashboard (npm ci)"
    if (cd "$ZTC_ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
        mkdir -p "$ZTC_ROOT/var"
        printf '%s\n' "$want" >"$ZTC_NPM_STAMP"
    else
        ztc_log "warning: npm ci failed: the dashboard will show tables without charts"
    fi
}
