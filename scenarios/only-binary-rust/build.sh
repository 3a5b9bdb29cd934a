#!/usr/bin/env bash
# Wheels only: pip refuses to build anything from source, so a missing wheel fails at once.
set -o errexit
pip install --only-binary :all: -r requirements.txt
