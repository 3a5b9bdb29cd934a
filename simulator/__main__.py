"""`python -m simulator`: the same command line as `render-sim`."""

from simulator.cli.app import main

if __name__ == "__main__":
    main()
