"""Click command groups by area, registered on the main group in rumourwatch/cli.py."""
