"""Hypothesis properties, one module per paper claim (see verification/README.md)."""
