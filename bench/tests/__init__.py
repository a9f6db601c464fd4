"""Tests of the benchmark harness (run: .venv/bin/pytest bench/tests)."""
