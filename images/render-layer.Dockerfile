# Render's native Python build layer.
#
# BASE_IMAGE is python:X.Y.Z-slim-bookworm (Render builds on Debian 12 bookworm) or, where no
# registry answers, a render-sim stand-in bootstrapped from Debian's packages. On top of it this
# adds what Render's build machine has: its build tools, cargo with CARGO_HOME=/usr/local/cargo,
# the interpreter at /opt/render/project/python/Python-X.Y.Z, Poetry at Render's path and, for
# services with a uv.lock, uv. render-sim runs the result with a read-only root filesystem.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

ARG RENDER_PYTHON_VERSION
ARG TOOL_PACKAGES
ARG POETRY_VERSION
ARG UV_VERSION

# The CA bundle render-sim was given (empty when none): only used to reach PyPI from this build
# and, at run time, by pip, uv, cargo and curl through the variables render-sim sets.
COPY ca-bundle.crt /etc/render-sim/ca-bundle.crt
COPY render-layer.sh /usr/local/lib/render-sim/render-layer.sh
RUN RENDER_PYTHON_VERSION="${RENDER_PYTHON_VERSION}" TOOL_PACKAGES="${TOOL_PACKAGES}" \
    POETRY_VERSION="${POETRY_VERSION}" UV_VERSION="${UV_VERSION}" \
    bash /usr/local/lib/render-sim/render-layer.sh

ENV CARGO_HOME=/usr/local/cargo \
    HOME=/opt/render \
    LANG=C.UTF-8
WORKDIR /opt/render/project/src
CMD ["sleep", "infinity"]
