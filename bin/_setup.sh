# Shared by bin/run and bin/test: a virtualenv with the pinned packages, then PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
# Some machines set PYTHONDONTWRITEBYTECODE: then every process (a command, an RQ worker, each worker a
# test starts) compiles about 1,400 modules from source at start, 4 s of CPU each time. Cache them.
unset PYTHONDONTWRITEBYTECODE
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
# uv downloads and unpacks in parallel: on a fresh clone (CI) it installs the lock in about a minute where
# pip takes many. It reads no pip settings, so it gets pip's indexes, find-links and constraints as flags.
# pip stays the fallback when uv cannot be had or fails.
pip_setting() { .venv/bin/python -m pip config get "global.$1" 2>/dev/null || true; }
install_with_uv() {
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 || return 1
  local args=(--python .venv/bin/python --index-strategy unsafe-best-match --compile-bytecode --quiet)
  local url dir constraint
  [ -n "${PIP_INDEX_URL:-}" ] && args+=(--index-url "$PIP_INDEX_URL")
  for url in $(pip_setting extra-index-url) ${PIP_EXTRA_INDEX_URL:-}; do args+=(--extra-index-url "$url"); done
  for dir in $(pip_setting find-links) ${PIP_FIND_LINKS:-}; do args+=(--find-links "$dir"); done
  constraint=$(pip_setting constraint)
  [ -n "$constraint" ] && [ -f "$constraint" ] && args+=(--constraint "$constraint")
  .venv/bin/uv pip install "${args[@]}" -r requirements.lock
}
stamp=.venv/.requirements.lock.installed
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  echo "[setup] installing pinned packages (requirements.lock)"
  if ! install_with_uv; then
    echo "[setup] uv unavailable or failed; installing with pip"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  fi
  cp requirements.lock "$stamp"
fi
eval "$(.venv/bin/python bin/services.py env)"
export DJANGO_SETTINGS_MODULE=hockeyhub.settings
