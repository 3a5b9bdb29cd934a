"""Reading a build log: what failed, which package, why, and the fix.

The log is read in three layers: `text` strips what wraps the lines (timestamps, CI and Docker
prefixes, Markdown quoting, colours) keeping their numbers; `segment` cuts the build into
installer events (collect, download, build, resolve, install, Render's own lines, the runtime
after a successful build); `classifier` matches the rule catalogue (`data/rules.yaml`) inside the
event that failed and names its owner. Nothing here runs a build: the direction is build ->
diagnose, never the other way.
"""
