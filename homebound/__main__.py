"""The ``homebound`` command line: the front door to simulate/, theory/, bounds/ and figures/."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
