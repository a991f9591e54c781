"""nba_ml.shots: real shot data (loader, court geometry) and shot charts for the GAN."""
from .court import ZONES, zone_of
from .loader import LoadReport, ShotDataError, load_shots

__all__ = ["ZONES", "zone_of", "LoadReport", "ShotDataError", "load_shots"]
