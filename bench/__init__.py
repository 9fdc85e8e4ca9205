"""The benchmark and the load test's seed: a synthetic trust at scale, and its measurements.

A development tool kept outside the application package, so it is not in the wheel; the
app adds `flask bench` (cli.py) only where the development extra is installed.
"""
