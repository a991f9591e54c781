"""Pictures saved as PNG (matplotlib, no display needed)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: CI and servers have no display
import matplotlib.pyplot as plt  # noqa: E402
from torch import Tensor  # noqa: E402

from .io import atomic_path  # noqa: E402


def plot_points(real: Tensor, generated: dict[str, Tensor], path: str | Path, title: str = "") -> Path:
    """Real points beside each run's generated points, on shared axes."""
    panels = {"real": real, **generated}
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), sharex=True, sharey=True, squeeze=False)
    for ax, (name, pts) in zip(axes[0], panels.items()):
        pts = pts.detach().cpu().numpy()
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4, color="tab:orange" if name == "real" else "tab:blue")
        ax.set_title(name)
        ax.set_aspect("equal")
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return Path(path)
