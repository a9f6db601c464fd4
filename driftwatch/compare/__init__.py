"""The pure compare core: desired set + live snapshot in, drift report out. No I/O."""

from driftwatch.compare.engine import CompareOptions, compare_target

__all__ = ["CompareOptions", "compare_target"]
