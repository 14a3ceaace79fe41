"""huskycat: run code-validation tools with the most parallelism their dependencies allow."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
