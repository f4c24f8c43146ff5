#!/usr/bin/env bash
# One script behind the README's two commands.
#   bash .ci/setup.sh start   install, then open JupyterLab on notebooks/ with the sample data
#   bash .ci/setup.sh test    install (with Debian chromium for browser tests), then run every test
# Needs only Debian + Python 3.11. Installs from the committed lock (uv) into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"
shift || true

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "setup: Python 3.11+ is required as '$PY' (set PYTHON=...)" >&2; exit 2
fi
# Debian's python3 lacks venv/ensurepip until python3-venv is installed.
if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
  apt_install python3-venv python3-pip
fi
if [ "$mode" = test ]; then
  # browser tests drive Debian's chromium (never `playwright install`)
  command -v chromium >/dev/null 2>&1 || apt_install chromium fonts-liberation
  # the PySpark engine test needs a Java runtime (Debian 12: OpenJDK 17)
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  # PostgreSQL source tests start a throwaway cluster with Debian's server binaries
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
fi

if [ ! -x .venv/bin/uv ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check "uv==0.13.8"
fi
export VIRTUAL_ENV="$PWD/.venv"
# start: what the app needs (notebooks, dashboard, linkage, DP, synthetic data; compiled with
# `uv pip compile pyproject.toml --extra app --extra linkage --extra dp --extra synth
#  -c requirements.lock -o requirements-app.lock`); test: everything (requirements.lock)
lock=requirements.lock
[ "$mode" = start ] && lock=requirements-app.lock
.venv/bin/uv pip sync -q --python .venv/bin/python "$lock"
.venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .

case "$mode" in
  start)
    exec .venv/bin/workbench lab "$@" ;;
  test)
    export WORKBENCH_REQUIRE_BROWSER=1
    .venv/bin/ruff check workbench tests bench
    .venv/bin/ruff format --check workbench tests bench
    exec .venv/bin/python -m pytest "$@" ;;
  *)
    echo "usage: bash .ci/setup.sh start|test [args]" >&2; exit 2 ;;
esac
