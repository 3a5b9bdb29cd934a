#!/usr/bin/env bash
# mmdebstrap customize hook for a stand-in base: makes a Debian rootfs look like
# python:X.Y-slim (interpreter reachable as /usr/local/bin/python3) and records its facts.
# Called as: standin-hook.sh ROOTFS PYTHON_MINOR FACTS_FILE
set -euo pipefail
root="$1" minor="$2" facts="$3"
for name in "python$minor" python3 python; do
    ln -sf "/usr/bin/python$minor" "$root/usr/local/bin/$name"
done
chroot "$root" "/usr/bin/python$minor" -c 'import platform; print("python=" + platform.python_version())' > "$facts"
echo "glibc=$(chroot "$root" getconf GNU_LIBC_VERSION | cut -d' ' -f2)" >> "$facts"
echo "debian=$(cat "$root/etc/debian_version")" >> "$facts"
