"""`simulate --verify-fix`: prove a fix by building a copy of the repo with it, and keep going.

`changes` applies a fix's action to a copy of the repo (files, render.yaml, the rebuild's
options) and says the exact change to make; `pins` rewrites requirements where they are
declared (TOML through tomlkit); `blueprint_edit` edits render.yaml line by line; `loop` tries
the fixes in order, skips what this machine cannot run, extends a change that got the build
further, and reports the whole change; `view` prints it.
"""
