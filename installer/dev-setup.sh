#!/usr/bin/env bash
# Set up a development environment on Debian/Ubuntu with Python 3.11: the Debian libraries
# Qt needs (offscreen, and on an X server for the desktop GUI), Xvfb, socat for virtual serial
# links, mbpoll, a virtual environment in .venv with PlantML installed in editable mode (this
# builds the Cython kernels) and the test tools; poppler-utils reads the PDF reports back.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The libxcb-* and xkbcommon-x11 libraries are what Qt's xcb plugin needs for the desktop
# GUI on an X server (Xvfb runs the screenshot script and the real-X tests).
DEBS="libegl1 libgl1 libglx0 libglvnd0 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3
      libglib2.0-0 libx11-6 libxcb1 fonts-dejavu-core socat mbpoll gcc python3-dev
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
      libxcb-shape0 libxcb-xkb1 libxcb-randr0 libxkbcommon-x11-0 xvfb xauth poppler-utils"
missing=""
for p in $DEBS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing Debian packages:$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    else
        echo "warning: missing Debian packages:$missing (run as root or install them)" >&2
    fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
    || { echo "PlantML needs Python 3.11 or newer" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
