"""Benchmarks that print a table; `make bench` runs them all (they are not timed tests)."""
