#!/usr/bin/env bash
set -o errexit
pip install --upgrade pip
