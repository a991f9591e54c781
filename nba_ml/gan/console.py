"""Console output of a run: a tqdm bar over all steps, and the training guide's block on logged steps.

The block follows the team's GAN training guide:

    ═══════════════════════════════════════════════════════════════════════════
    Step 1200/3000 [12.3s]
    ───────────────────────────────────────────────────────────────────────────
      Losses     │ D: 0.1234 (R: -0.5000 F: 0.4000)  G: -0.4000  W-dist: 0.9000  GP: 0.0100
      Weights    │ Critic μ: 0.0024 σ: 0.0960  Gen μ: 0.0028 σ: 0.0810
      Stability  │ D/G Ratio: 0.3085  Var: 0.000002  |∇|: 1.02±0.08
    ═══════════════════════════════════════════════════════════════════════════
      Quality    │ modes_covered: 8  modes_total: 8  PixVar: 0.9310

Everything is printed with tqdm.write so the bar stays on the last line.
"""
from __future__ import annotations

from typing import Optional, TextIO

from tqdm import tqdm

WIDTH = 75  # the guide's rule width
LABEL_WIDTH = 10  # "Stability" plus a space, so the │ column lines up


def _line(label: str, body: str) -> str:
    return f"  {label:<{LABEL_WIDTH}} │ {body}"


def losses_line(m: dict[str, float]) -> str:
    # The guide's R is -E[f(x_real)] and F is E[f(G(z))]. Its D is 0.5 (R + F);
    # here D is loss/critic as optimised: R + F (+ the weighted penalty under wgan-gp).
    body = (f"D: {m['loss/critic']:.4f} (R: {-m['critic/real']:.4f} F: {m['critic/fake']:.4f})"
            f"  G: {m['loss/generator']:.4f}  W-dist: {m['wdist']:.4f}")
    if "loss/gp" in m:  # only wgan-gp steps that computed the penalty have it
        body += f"  GP: {m['loss/gp']:.4f}"
    return _line("Losses", body)


def weights_line(m: dict[str, float]) -> str:
    return _line("Weights", f"Critic μ: {m['weights/critic_mean']:.4f} σ: {m['weights/critic_std']:.4f}"
                            f"  Gen μ: {m['weights/generator_mean']:.4f} σ: {m['weights/generator_std']:.4f}")


def stability_line(m: dict[str, float]) -> str:
    body = f"D/G Ratio: {m['stability/dg_ratio']:.4f}"
    if "stability/clip_pct" in m:  # only weight clipping has a clip bound
        body += f"  Clip%: {m['stability/clip_pct']:.1f}%"
    body += f"  Var: {m['stability/loss_var']:.6f}"
    if "grad_norm/mean" in m:
        body += f"  |∇|: {m['grad_norm/mean']:.2f}±{m['grad_norm/std']:.2f}"
    return _line("Stability", body)


def quality_line(m: dict[str, float]) -> Optional[str]:
    """The Quality line, or None on steps where no quality callback reported (pixvar alone is every step)."""
    values = {k.removeprefix("quality/"): v for k, v in m.items() if k.startswith("quality/")}
    if not set(values) - {"pixvar", "pixvar_real"}:
        return None
    values["PixVar"], values["PixVar_real"] = values.pop("pixvar", None), values.pop("pixvar_real", None)
    spec = lambda name: ".4f" if name.startswith("PixVar") else ".4g"  # noqa: E731
    parts = [f"{name}: {value:{spec(name)}}" + ("" if values.get(f"{name}_real") is None
                                                else f" (real {values[f'{name}_real']:{spec(name)}})")
             for name, value in values.items() if value is not None and not name.endswith("_real")]
    return _line("Quality", "  ".join(parts))  # a figure with a `<name>_real` twin shows it beside: the real data's own


def format_block(m: dict[str, float], total_steps: int) -> str:
    """The text block of one logged step (the metrics keys of docs/metrics.md)."""
    lines = ["═" * WIDTH, f"Step {int(m['step'])}/{total_steps} [{m.get('time/elapsed_s', 0.0):.1f}s]", "─" * WIDTH,
             losses_line(m), weights_line(m), stability_line(m), "═" * WIDTH]
    quality = quality_line(m)
    if quality is not None:
        lines += ["", quality]
    return "\n".join(lines)


class ConsoleCallback:
    """Training callback: advances the bar every step and prints the block on logged steps."""

    def __init__(self, total_steps: int, verbose: bool = True, file: Optional[TextIO] = None):
        self.total_steps = total_steps
        self.verbose = verbose
        self.file = file
        self.bar: Optional[tqdm] = None

    def __call__(self, state, metrics: Optional[dict[str, float]]) -> None:
        if not self.verbose:
            return None
        if self.bar is None:  # created on the first call so a resumed run starts at its step
            self.bar = tqdm(total=self.total_steps, initial=state.step - 1, unit="step", file=self.file,
                            dynamic_ncols=True, leave=True)
        self.bar.update(1)
        if metrics is not None:
            tqdm.write(format_block(metrics, self.total_steps), file=self.file)
            self.bar.set_postfix_str(f"W-dist {metrics['wdist']:.4f}", refresh=False)
        if state.step >= self.total_steps:
            self.close()
        return None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def console_callback(total_steps: int, verbose: bool = True, file: Optional[TextIO] = None) -> ConsoleCallback:
    """The console callback of a run of `total_steps` generator iterations; verbose=False prints nothing."""
    return ConsoleCallback(total_steps, verbose, file)
