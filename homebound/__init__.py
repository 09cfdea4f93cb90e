"""The ``homebound`` command line: the front door to simulate/, theory/, bounds/ and figures/."""
