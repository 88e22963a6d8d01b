"""Benchmarks and load measurements; see docs/benchmarks.md. Not shipped in the wheel."""
