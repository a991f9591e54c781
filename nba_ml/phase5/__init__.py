"""Phase 5 (Machine Learning) recommendations of the NBA simulator: the shared plugin machinery."""
from .config import MODE_PRESETS, PluginConfig, Recommendation
from .plugin import Phase5Plugin

__all__ = ["MODE_PRESETS", "Phase5Plugin", "PluginConfig", "Recommendation"]
