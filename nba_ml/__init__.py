"""nba_ml: machine learning for the NBA game simulator (Phase 5)."""
__version__ = "0.1.0"
