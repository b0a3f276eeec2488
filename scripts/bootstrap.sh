# Sourced by scripts/run and scripts/test: a virtual environment with the project installed.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
VENV="${PLANCHER_VENV:-.venv}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.plancher-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing Plancher and its dependencies"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi
