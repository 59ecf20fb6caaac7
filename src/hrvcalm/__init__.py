"""hrvcalm: heart-rate-variability biofeedback for mindfulness practice.

The package is layered as ``../shared/DESIGN.md`` describes: a sans-I/O core (``core/``) that
turns beat intervals into metrics with time passed in as an argument, thin edges that talk to
straps (``devices/``), files (``recordings/``) and browsers (``server/``), and the CLI.
"""

__version__ = "0.1.0"
