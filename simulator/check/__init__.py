"""`render-sim check`'s parts that look beyond one resolution: the build-command lint
(`lint`, reading pip's options with pip's own parser) and the fix planner (`planner`), which
finds whole-service changes that make every package install from a wheel, each checked with
the same resolver `check` uses (`simulator.check.pip_resolve`).
"""
