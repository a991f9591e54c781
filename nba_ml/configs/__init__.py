"""Recommended configs shipped with the package (mirrored in docs/configs/)."""
