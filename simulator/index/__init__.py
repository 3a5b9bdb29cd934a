"""The package-index client of render-sim's resolutions: pages, files and sdist facts, cached.

`pages` keeps what the stand-in index fetched from the real indexes (project pages for a few
minutes, metadata files for good) so the second resolution of a run, and the fix planner's
candidates, do not wait for the network again; `sdist` tells a pure-Python source distribution
from one with code to compile, by what the archive contains.
"""
