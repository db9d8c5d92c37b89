#!/usr/bin/env bash
# Build the PyInstaller one-folder bundle on Linux: dist/PlantML/ with PlantML (the GUI) and
# plantml-cli (the command line). Uses .venv (made by installer/dev-setup.sh) and prints the
# bundle's size and the build time. The same spec builds on Windows (installer/build.ps1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "no $PY: run installer/dev-setup.sh first" >&2; exit 1; }
"$PY" -m pip install -q -e ".[build]"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "${DIST:-dist}" --workpath "${WORK:-build/pyinstaller}" installer/plantml.spec
took=$(( $(date +%s) - start ))
bundle="${DIST:-dist}/PlantML"
size=$(du -sm "$bundle" | cut -f1)
echo "bundle: $bundle, ${size} MB, built in ${took} s"
