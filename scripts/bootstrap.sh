# Sourced by scripts/run and scripts/test: the Debian libraries the PDF renderer needs, and a
# virtual environment with the project installed. Re-installs only what is missing, and the
# project only when pyproject.toml changed since the last install.
set -euo pipefail

# install_debian_packages PACKAGE...: apt-get install those not installed yet (as root, or
# with sudo); on a system without dpkg, say what to install and go on.
install_debian_packages() {
  local missing=() package
  if ! command -v dpkg > /dev/null; then
    echo "==> not a Debian system: make sure these (or their equivalents) are installed: $*"
    return 0
  fi
  for package in "$@"; do
    dpkg -s "$package" > /dev/null 2>&1 || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "==> installing ${missing[*]} from Debian packages"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" > /dev/null
}

# WeasyPrint renders the invoice PDFs with Pango and HarfBuzz; DejaVu is the font it embeds.
install_debian_packages libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

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
