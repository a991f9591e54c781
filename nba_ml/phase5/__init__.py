"""Phase 5 (Machine Learning) recommendations of the NBA simulator: the shared plugin machinery."""
from .plugin import MODE_PRESETS, Phase5Plugin, PluginConfig, Recommendation

__all__ = ["MODE_PRESETS", "Phase5Plugin", "PluginConfig", "Recommendation"]
