"""render-sim's benchmarks: `make bench` runs bench/run.py."""
