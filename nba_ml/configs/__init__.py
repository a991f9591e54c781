"""Recommended configs shipped with the package (the one copy; docs link here)."""
