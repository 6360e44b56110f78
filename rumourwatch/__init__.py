"""rumourwatch: find false health claims in Chinese media early and route them to experts."""

__version__ = "0.1.0"
