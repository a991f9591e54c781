"""Pictures (matplotlib, no display needed), saved in the format of their name: .png, .svg or .pdf."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: CI and servers have no display
import matplotlib.pyplot as plt  # noqa: E402
from torch import Tensor  # noqa: E402

from .io import Output, check_output, open_output  # noqa: E402


def save_figure(fig, path: str | Path | Output, dpi: int = 100) -> Path:
    """Save `fig` to `path` in the format its suffix names (any case), atomically (nba_ml.io.open_output).

    Check the path with check_output(path, "picture") before drawing: an unknown suffix is refused then."""
    out = check_output(path, "picture")
    with open_output(out) as stream:
        fig.savefig(stream, dpi=dpi, format=out.format)
    return Path(out.path)


def plot_points(real: Tensor, generated: dict[str, Tensor], path: str | Path, title: str = "") -> Path:
    """Real points beside each run's generated points, on shared axes."""
    out = check_output(path, "picture")  # before drawing
    panels = {"real": real, **generated}
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), sharex=True, sharey=True, squeeze=False)
    for ax, (name, pts) in zip(axes[0], panels.items()):
        pts = pts.detach().cpu().numpy()
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4, color="tab:orange" if name == "real" else "tab:blue")
        ax.set_title(name)
        ax.set_aspect("equal")
    fig.suptitle(title)
    fig.tight_layout()
    try:
        return save_figure(fig, out)
    finally:
        plt.close(fig)
