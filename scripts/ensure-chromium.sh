#!/usr/bin/env bash
# Makes sure a headless browser is there for the HTML report's browser test: Debian's chromium.
#
# A fresh CI machine has none; it is installed from Debian's archive as scripts/ensure-docker.sh
# installs docker.io. apt waits for another apt run's lock instead of failing on it.
set -euo pipefail

if command -v chromium >/dev/null; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "render-sim's browser test needs chromium; install it (sudo apt-get install chromium) and rerun" >&2
    exit 4
fi

echo "installing chromium (Debian package, for the HTML report's browser test)"
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
