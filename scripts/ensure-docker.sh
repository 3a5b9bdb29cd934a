#!/usr/bin/env bash
# Makes sure a Docker engine answers, and that render-sim's offline tools are there.
#
# On a machine with no engine (a fresh CI box, a dev container) it installs Debian's docker.io,
# plus mmdebstrap (offline stand-in base images) and docker-compose (test fixtures), and starts
# dockerd detached with setsid, its output in a file: a dockerd attached to this shell would keep
# CI's run from ever ending.
set -euo pipefail

log="${RENDER_SIM_DOCKERD_LOG:-/var/log/render-sim-dockerd.log}"

missing=()
command -v docker >/dev/null || missing+=(docker.io)
command -v dockerd >/dev/null || [[ " ${missing[*]} " == *" docker.io "* ]] || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v docker-compose >/dev/null || missing+=(docker-compose)

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "render-sim needs: ${missing[*]}; install them (sudo apt-get install ${missing[*]}) and rerun" >&2
        exit 4
    fi
    echo "installing ${missing[*]} (Debian packages)"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "no Docker engine answers; start it (sudo systemctl start docker) and rerun" >&2
    exit 4
fi

echo "starting dockerd (log: $log)"
mkdir -p "$(dirname "$log")"
setsid dockerd >"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
        echo "dockerd is up"
        exit 0
    fi
    sleep 1
done
echo "dockerd did not come up within 60 s; its log:" >&2
tail -20 "$log" >&2
exit 4
