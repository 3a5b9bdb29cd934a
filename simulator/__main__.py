"""`python -m simulator`: the same command line as `render-sim`."""

from simulator.cli import main

if __name__ == "__main__":
    main()
