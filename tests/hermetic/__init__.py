"""render-sim's hermetic test fixtures: a package index and a cargo registry the tests make.

`packages` generates every package and crate (byte for byte the same on every run), `compose.yml`
serves them on an internal Docker network (hosts `index` and `crates`), and `relock` rewrites the
uv.lock files of the scenarios that use uv from the generated index.
"""
