"""meso: mesotherapy eligibility screening and session planning."""

__version__ = "0.1.0"
