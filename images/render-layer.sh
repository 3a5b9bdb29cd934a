#!/usr/bin/env bash
# Builds Render's layer inside the image (see render-layer.Dockerfile for the why).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

ca=/etc/render-sim/ca-bundle.crt
if [ -s "$ca" ]; then
    export PIP_CERT="$ca" SSL_CERT_FILE="$ca" REQUESTS_CA_BUNDLE="$ca"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore

# Build tools from Render's list, and cargo/rustc >= 1.85 (from 1.85 on, cargo names its registry
# directories like Render's: index.crates.io-1949cf8c6b5b557f). bookworm's own cargo is 1.65;
# its cargo-web/rustc-web packages carry a current toolchain.
# shellcheck disable=SC1091
. /etc/os-release
case "${VERSION_CODENAME:-}" in
    bookworm) RUST_PACKAGES="cargo-web rustc-web" ;;
    *) RUST_PACKAGES="cargo rustc" ;;
esac
apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package lists is intended
apt-get install -y -q --no-install-recommends ca-certificates $TOOL_PACKAGES $RUST_PACKAGES
# Render's build machine keeps no apt lists: `apt-get update` there fails with
# "List directory /var/lib/apt/lists/partial is missing. - Acquire (30: Read-only file system)".
apt-get clean
rm -rf /var/lib/apt/lists/*

# cargo where Render's is: /usr/local/cargo/bin, with CARGO_HOME=/usr/local/cargo (read-only at
# build time, which is what breaks Rust source builds on Render).
mkdir -p /usr/local/cargo/bin
for tool in cargo rustc rustdoc; do
    if command -v "$tool" >/dev/null; then ln -sf "$(command -v "$tool")" "/usr/local/cargo/bin/$tool"; fi
done

# The interpreter where Render installs it: /opt/render/project/python/Python-X.Y.Z.
minor="${RENDER_PYTHON_VERSION%.*}"
python="$(command -v "python$minor")"
prefix="$("$python" -c 'import sys; print(sys.base_prefix)')"
home="/opt/render/project/python/Python-$RENDER_PYTHON_VERSION"
mkdir -p "$home/bin" /opt/render/project/src
ln -s "$prefix/lib" "$home/lib"
ln -s "$prefix/include" "$home/include"
for name in "python$minor" python3 python; do ln -s "$python" "$home/bin/$name"; done

# Render's venv, made by the very command render-sim would run at build time (same interpreter
# path, same target, HOME=/opt/render; ensurepip ignores PIP_* settings). /opt/render is a fresh
# volume in every build container and Docker fills a new volume from the image's content, so each
# build starts with this venv, file for file what `python -m venv` makes there, in ~0.2 s instead
# of the ~2 s ensurepip takes to install pip.
env -i HOME=/opt/render PATH=/usr/local/bin:/usr/bin:/bin \
    "$home/bin/python$minor" -m venv /opt/render/project/src/.venv

# Tools live under /opt/render-sim (read-only at build time); /opt/render/project gets symlinks,
# so the writable project volume starts from a few links instead of thousands of files.
mkdir -p /opt/render-sim
"$python" -m venv /opt/render-sim/tools-python
pip=/opt/render-sim/tools-python/bin/pip

# Poetry at Render's path (/opt/render/project/poetry/bin). Its dependencies may lack wheels for a
# brand-new Python: then the image says so instead of failing.
if "$python" -m venv /opt/render-sim/poetry \
    && /opt/render-sim/poetry/bin/pip install -q --prefer-binary "poetry==$POETRY_VERSION"; then
    ln -s /opt/render-sim/poetry /opt/render/project/poetry
else
    rm -rf /opt/render-sim/poetry
    echo "poetry $POETRY_VERSION could not be installed for Python $minor" > /opt/render-sim/poetry.unavailable
fi

# uv, put on PATH by render-sim only for services whose root holds a uv.lock (as Render does).
if [ -n "$UV_VERSION" ]; then
    "$pip" install -q --target /opt/render-sim/uv "uv==$UV_VERSION"
fi
rm -rf /opt/render-sim/tools-python

# What this image is, for `render-sim images list` and the plan.
{
    echo "python=$("$python" -c 'import platform; print(platform.python_version())')"
    echo "glibc=$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)"
    echo "debian=$(cat /etc/debian_version)"
    echo "cargo=$( (cargo --version 2>/dev/null || echo none) | cut -d' ' -f2)"
    echo "poetry=$( [ -e /opt/render-sim/poetry.unavailable ] && echo unavailable || echo "$POETRY_VERSION")"
    echo "uv=${UV_VERSION:-none}"
} > /opt/render-sim/facts
cat /opt/render-sim/facts
