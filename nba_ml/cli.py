"""Command line (`nba-ml ...`, the same as `python -m nba_ml ...`).

    nba-ml phase5 [--mode production|development|test]        run rec_115 and rec_098, update STATUS.md
    nba-ml train --config FILE --out DIR [--data FILE] [--set key.path=value ...] [--resume]
    nba-ml sample --checkpoint DIR --charts N [--shots-per-chart K] [--position GROUP] [--seed S] --out FILE
    nba-ml sample --checkpoint DIR --observed SHOTS --charts N --shots-per-chart K [--plot PNG] --out FILE
    nba-ml profile --checkpoint DIR --observed SHOTS --out DIR [--plot PNG]      given players' profiles
                                                               (and DIR/defenses.csv, PNG's defense card)
    nba-ml draw --profiles DIR --situations FILE --out FILE [--season K] [--seed S]     a game's shots
    nba-ml makes --checkpoint DIR [--observed SHOTS] --queries QUERIES --out PRED [--zones-out ZONES]

A config with a `charts` section trains a shot-chart model (on --data, a shot
file, or on the built-in synthetic league); otherwise a GAN on points (--data, a
numeric CSV/Parquet, or the built-in 25-Gaussian benchmark).

Outputs are checked first, before any work (nba_ml.io.check_output): `sample --out`
takes .csv, .csv.gz or .parquet (any case), or - for standard output; `--plot` .png,
.svg or .pdf. Ctrl-C or SIGTERM ends a command in one line with exit status 130 / 143;
`train` then says at which step it stopped and how to resume.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from . import interrupts
from .errors import InputError, counted, one_line, yaml_problem
from .gan import ConfigError, TrainingDiverged
from .gan.config import read_yaml_mapping
from .io import check_apart, check_directory, check_output, check_replaceable_directory, write_table


def parse_override(text: str) -> tuple[list[str], Any]:
    """'gan.train.steps=500' -> (['gan', 'train', 'steps'], 500); the value is read as YAML."""
    if "=" not in text or text.startswith("="):
        raise ConfigError(f"--set takes KEY.PATH=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.split("."), yaml.safe_load(value) if value else None
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {text}: the value is not valid YAML ({yaml_problem(err)})") from None


def apply_overrides(raw: dict, overrides: list[tuple[list[str], Any]]) -> dict:
    """raw with each dotted key set (sections created as needed); validation happens afterwards, once."""
    for path, value in overrides:
        node = raw
        for part in path[:-1]:
            if not isinstance(node.setdefault(part, {}), dict):
                raise ConfigError(f"--set {'.'.join(path)}: {part} is not a section")
            node = node[part]
        node[path[-1]] = value
    return raw


def _train(args: argparse.Namespace) -> int:
    from .gan import distributed

    out = check_directory(args.out, "--out")  # first: a file there is refused before any work
    overrides = [parse_override(text) for text in args.set or []]
    raw = apply_overrides(read_yaml_mapping(args.config), overrides)
    try:  # under torchrun every rank trains; only rank 0 writes the model and pictures
        if "charts" in raw:
            _train_shots(raw, args, out)
        else:
            _train_points(raw, args, out)
        main_rank = distributed.current().is_main
    finally:
        distributed.leave()
    if main_rank:
        print(f"run directory: {out}  (model: {out / 'model'})")
    return 0


def _train_shots(raw: dict, args: argparse.Namespace, out: Path) -> None:
    from .gan import distributed
    from .shots import load_shots
    from .shots.model import validate_shot_config
    from .shots.training import run_identity, train_shot_model
    from .shots.pictures import plot_position_grid
    from .shots.synthetic import synthetic_league

    cfg = validate_shot_config(raw)
    check_run(cfg.gan, args, out, run_identity(cfg))
    if args.data:
        shots, report = load_shots(args.data)
        print(report)
    else:
        shots = synthetic_league(seed=cfg.gan.train.seed)
        print(f"no --data: training on the built-in synthetic league ({len(shots):,} shots)")
    model, result, _ = train_shot_model(cfg, shots, run_dir=out, resume=args.resume, verbose=not args.quiet)
    if not distributed.current().is_main:
        return
    report_early_stop(result)
    if "quality/kept_step" in result.metrics:
        print(f"kept the generator of step {result.metrics['quality/kept_step']:.0f} of {result.metrics['step']:.0f}: "
              f"the lowest held-out Frechet distance, {result.metrics['quality/kept_frechet']:.4f} (keep: best)")
    model.save(out / "model")
    per_position = {g: model.generate_charts(4, position=g, seed=0)[0] for g in model.position_groups} \
        if model.conditional else {"all": model.generate_charts(4, seed=0)[0]}
    plot_position_grid(per_position, out / "plots" / "generated_charts.png", title="Generated charts")


def _train_points(raw: dict, args: argparse.Namespace, out: Path) -> None:
    from .gan import distributed, make_points, run_training, validate_config
    from .gan.data import load_points
    from .gan.export import export_generator
    from .plots import plot_points

    cfg = validate_config(raw)
    check_run(cfg, args, out)
    if args.data:
        samples = load_points(args.data)
    else:
        samples = make_points("25gaussians", 100_000, seed=cfg.train.seed).samples
        print("no --data: training on the built-in 25-Gaussian benchmark (100,000 points)")
    result = run_training(cfg, samples, out, resume=args.resume, verbose=not args.quiet)
    if not distributed.current().is_main:
        return
    report_early_stop(result)
    export_generator(out / "model", result.config, result.generator, {"kind": "points"})
    if samples.shape[1] == 2:
        plot_points(samples[:2500], {"generated": result.generator.sample(2500, seed=0)}, out / "plots" / "samples.png")


def check_run(gan, args: argparse.Namespace, out: Path, settings: Optional[dict] = None) -> None:
    """Before the data is read: a --resume that the run's config.yaml (and the `settings` part of its
    identity.yaml) refuses, or a fresh run into a used directory."""
    from .gan.runs import check_resume, refuse_existing_run

    if args.resume:
        check_resume(gan, out, settings, partial=True)  # the data is checked once it is read
    elif os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 may have begun the run already
        refuse_existing_run(out)


def report_early_stop(result) -> None:
    """A run that stopped at its time budget says so, and how to continue it."""
    train_cfg, guard = result.config.train, result.config.guard
    if result.state.step < train_cfg.steps:
        print(f"stopped at the time budget (guard.max_seconds={guard.max_seconds:g}) after step {result.state.step:,} "
              f"of {train_cfg.steps:,}, with a checkpoint; continue with --resume")


def _sample(args: argparse.Namespace) -> int:
    from .gan.export import META_FILE, find_export, read_export_file

    out = check_output(args.out, "table", "--out")  # first: a path or suffix that cannot be written is refused before any work
    plot = check_output(args.plot, "picture", "--plot") if args.plot is not None else None
    check_apart({"--out": out, "--plot": plot}, {"--observed": args.observed})  # no output over an input or another
    _require_positive(charts=args.charts, shots_per_chart=args.shots_per_chart)  # before any model or data is read
    _say_the_rest_on_stderr(out)
    kind = read_export_file(find_export(args.checkpoint) / META_FILE).kind  # the model is loaded once, by its mode
    mode = sample_mode(kind, args)
    rows = write_table(mode.draw(args), out)  # in the format of its suffix, chunk by chunk; attrs and index not written
    print(f"wrote {counted(rows, 'row')} to {'standard output' if out.descriptor == 1 else out.path}")
    return 0


def _sample_points(args: argparse.Namespace):
    """--charts points of a point model: columns X, Y (X0, X1, ... beyond two dimensions)."""
    import pandas as pd

    from .gan.export import load_export

    _, generator, _ = load_export(args.checkpoint)
    points = generator.sample(args.charts, seed=args.seed).numpy()
    columns = ["X", "Y"] if points.shape[1] == 2 else [f"X{i}" for i in range(points.shape[1])]
    return pd.DataFrame(points, columns=columns)


def _sample_charts(args: argparse.Namespace):
    """--charts generated charts of a shot-chart model (of one --position group, one of the model's), and
    --shots-per-chart shots from each."""
    from .shots.model import ShotChartModel

    model = ShotChartModel.load(args.checkpoint)
    groups = model.position_groups if model.conditional else ()
    if args.position is not None and args.position not in groups:  # the model file says which groups there are
        raise InputError(f"--position {args.position}: " + (f"this model's position groups are {', '.join(groups)}"
                         if groups else "this model is unconditional (no position groups); leave --position out"))
    return model.sample_shots(args.charts, args.shots_per_chart, position=args.position, seed=args.seed)


def _sample_players(args: argparse.Namespace):
    """--charts posterior draws (chart and make surface) for every player of the --observed shot file,
    --shots-per-chart shots each, as chunks for the writer; --plot draws the first players' cards."""
    from .shots.model import ShotChartModel
    from .shots.player.profiles import check_sampling_memory

    check_sampling_memory(args.shots_per_chart, args.charts)  # before the model is read and the posterior runs
    model = ShotChartModel.load(args.checkpoint)
    profiles = _profiles(model, args, charts=args.charts)
    return profiles.sample_chunks(args.shots_per_chart, draws=args.charts, seed=args.seed, chart_ids=True)


@dataclass(frozen=True)
class SampleMode:
    """One way nba-ml sample draws; _sample looks it up once and never asks which it is."""

    draw: Callable[[argparse.Namespace], Any]  # the options -> the table to write (a DataFrame, or its chunks)
    what: str  # what it draws from, for messages
    needs: tuple[str, ...]  # the options of SAMPLE_OPTIONS it requires
    takes: tuple[str, ...]  # those it also accepts; the others are refused


# The options of nba-ml sample that only some modes take, and what each is for (said when a mode refuses it).
SAMPLE_OPTIONS = {
    "shots_per_chart": "shot-chart models",
    "position": "a shot-chart model's generated charts",
    "observed": "shot-chart models",
    "plot": "given players (--observed)",
    "season": "given players (--observed)",
}

# (model.yaml's kind, whether --observed names given players) -> how nba-ml sample draws.
SAMPLE_MODES: dict[tuple[str, bool], SampleMode] = {
    ("points", False): SampleMode(_sample_points, "a point model", needs=(), takes=()),
    ("shot_charts", False): SampleMode(_sample_charts, "a shot-chart model's generated charts",
                                       needs=("shots_per_chart",), takes=("position",)),
    ("shot_charts", True): SampleMode(_sample_players, "given players (--observed)",
                                      needs=("shots_per_chart", "observed"), takes=("plot", "season")),
}


def sample_mode(kind: str, args: argparse.Namespace) -> SampleMode:
    """The mode for a model of `kind` and these options (a kind without an --observed mode: its own, which then
    refuses --observed); InputError, in one line, naming every option the mode needs and lacks or refuses."""
    mode = SAMPLE_MODES.get((kind, args.observed is not None)) or SAMPLE_MODES.get((kind, False))
    if mode is None:
        drawn = dict.fromkeys(known for known, _ in SAMPLE_MODES)
        raise InputError(f"{args.checkpoint}: model.yaml has kind {kind!r}; nba-ml sample draws from "
                         f"{' and '.join(drawn)} models")
    given = [name for name in SAMPLE_OPTIONS if getattr(args, name) is not None]
    problems = [f"{_flag(name)} is required for {mode.what}" for name in mode.needs if name not in given]
    problems += [f"{_flag(name)} does not apply to {mode.what}: it is for {SAMPLE_OPTIONS[name]}"
                 for name in given if name not in mode.needs + mode.takes]
    if problems:
        raise InputError("; ".join(problems))
    return mode


def _say_the_rest_on_stderr(out) -> None:
    """When a table goes to standard output, every other line goes to stderr (main restores stdout)."""
    if out.descriptor == 1:
        sys.stdout = sys.stderr


def _profiles(model, args: argparse.Namespace, *, charts: int, before=None):
    """The profiles of the --observed players, with a summary line (and their cards with --plot); `before(observed)`
    runs once the record is read, before the posterior."""
    from .shots import load_shots

    observed, report = load_shots(args.observed, keep_rows=True)  # every player kept; unusable rows counted below
    print(report)
    if before is not None:
        before(observed)
    profiles = model.player_profiles(observed, seed=args.seed, charts=charts, season=args.season)
    d = profiles.players
    print(f"profiles: {counted(len(d), 'player')}, {counted(int(d['SHOTS'].sum()), 'shot')} of their record used "
          f"(not used: {profiles.dropped}); season {profiles.target_season or 'of the model'}; SMC stages median "
          f"{d['stages'].median():.0f}, max {d['stages'].max()}; smallest ESS share median "
          f"{d['min_ess_share'].median():.2f}; the record's share of a chart, median {d['record_share'].median():.2f}"
          + (f"; make-surface sd median {d['makes_sd'].median():.3f} logits" if "makes_sd" in d else ""))
    noted = d[d["NOTE"] != ""]
    for player_id, note in zip(noted["PLAYER_ID"].head(5), noted["NOTE"].head(5)):
        print(f"  player {player_id!r}: {note}")
    if len(noted) > 5:
        print(f"  ... and {len(noted) - 5} more players with a note (their profile's players table says why)")
    if args.plot is not None:
        from .shots.pictures import plot_player_cards

        print(f"wrote {plot_player_cards(profiles, args.plot, observed=observed)}")
    return profiles


def defense_card_path(plot: str) -> Path:
    """Where --plot cards.png puts the defense card: cards.defenses.png beside it."""
    path = Path(plot)
    return path.with_name(f"{path.stem}.defenses{path.suffix}")


def _require_positive(**values) -> None:
    """InputError naming the first option (--name) that is given and not a positive integer."""
    for name, value in values.items():
        if value is not None and value < 1:
            raise InputError(f"{_flag(name)} must be a positive integer, got {value}")


def _flag(name: str) -> str:
    """'--shots-per-chart' for the option argparse keeps as shots_per_chart."""
    return "--" + name.replace("_", "-")


def _profile(args: argparse.Namespace) -> int:
    from .shots.model import ShotChartModel
    from .shots.player.profiles_file import PROFILES_DIRECTORY, check_room, least_bytes

    # Outputs first, before any work: a directory that is not an earlier profiles one, an output over an input.
    out = check_replaceable_directory(args.out, PROFILES_DIRECTORY, "--out")
    plot = check_output(args.plot, "picture", "--plot") if args.plot is not None else None
    card = check_output(defense_card_path(args.plot), "picture", "--plot's defense card") if plot is not None else None
    check_apart({"--out": args.out, "--plot": plot, "--plot's defense card": card},
                {"--observed": args.observed, "--checkpoint": args.checkpoint}, directories=["--out"])
    _require_positive(charts=args.charts)

    model = ShotChartModel.load(args.checkpoint)

    def room(observed) -> None:  # a disk without room for the profiles: refused before the posterior runs
        check_room(out, least_bytes(model, observed, args.charts), f"--out {args.out}")

    profiles = _profiles(model, args, charts=args.charts, before=room)
    profiles.save(args.out, label="--out")
    if card is not None:
        from .shots.pictures import plot_defense_card

        if profiles.has_defenses:
            print(f"wrote {plot_defense_card(profiles.defenses, card)} (the defense card)")
        else:
            print("no defense card: the record names no defenses (HTM, VTM and TEAM_ABBREVIATION)")
    tables = str(Path(args.out) / "table.csv") + (f" and {Path(args.out) / 'defenses.csv'}" if profiles.has_defenses else "")
    print(f"wrote the profiles of {counted(len(profiles.players), 'player')} to {args.out} (and {tables})")
    return 0


def _draw(args: argparse.Namespace) -> int:
    """A game's shots: one per situation of --situations, from saved profiles (PlayerProfiles.draw)."""
    from .shots.loader import read_table
    from .shots.player.profiles import PlayerProfiles

    out = check_output(args.out, "table", "--out")  # outputs first: refused before any work
    check_apart({"--out": out}, {"--situations": args.situations, "--profiles": args.profiles})
    _say_the_rest_on_stderr(out)
    profiles = PlayerProfiles.load(args.profiles)
    situations = read_table(Path(args.situations))
    shots = profiles.draw(situations, season=args.season, seed=args.seed)
    write_table(shots, out)
    players = shots["PLAYER_ID"].nunique() if len(shots) else 0
    print(f"wrote {counted(len(shots), 'shot')} of {counted(players, 'player')} to "
          f"{'standard output' if out.descriptor == 1 else out.path}; season {args.season}, seed {args.seed}")
    return 0


def _makes(args: argparse.Namespace) -> int:
    """P(make) at each query for its player, from his record (--observed), and his zones' FG% intervals."""
    import pandas as pd

    from .shots import load_shots
    from .shots.model import ShotChartModel
    from .shots.player.make_model import player_makes

    out = check_output(args.out, "table", "--out")  # outputs first: refused before any work
    zones_out = check_output(args.zones_out, "table", "--zones-out") if args.zones_out is not None else None
    check_apart({"--out": out, "--zones-out": zones_out}, {"--queries": args.queries, "--observed": args.observed})
    _say_the_rest_on_stderr(out)
    model = ShotChartModel.load(args.checkpoint)
    queries, report = load_shots(args.queries, keep_rows=True)  # every query counted, answered or not
    print(report)
    if args.observed is not None:
        observed, report = load_shots(args.observed, allow_empty=True, keep_rows=True)  # no shots: position rates
        print(report)
    else:
        observed = pd.DataFrame({"PLAYER_ID": pd.Series([], dtype=object), "LOC_X": [], "LOC_Y": [], "SHOT_MADE_FLAG": []})
    pred, zones, summary = player_makes(model.makes, observed, queries, model.position_groups, season=args.season,
                                        seed=args.seed, with_zones=args.zones_out is not None, where=args.checkpoint)
    write_table(pred, out)
    print(f"wrote {counted(len(pred), 'make probability', 'make probabilities')} to {'standard output' if out.descriptor == 1 else out.path}; {summary}")
    if zones is not None:
        write_table(zones, zones_out)
        blank = int((zones["ATTEMPTS"] == 0).sum())
        print(f"wrote {counted(len(zones) - blank, '(player, zone) FG% interval')}"
              + (f" and {counted(blank, 'player')} with no zone (NOTE says why)" if blank else "") + f" to {zones_out.path}")
    return 0


def _phase5(args: argparse.Namespace) -> int:
    from .phase5.experiment import usable_cpus
    from .phase5.runner import run_all, summary_lines, update_index

    if args.jobs < 0:
        raise InputError(f"--jobs must be 0 (the usable CPU cores) or a positive number of processes, got {args.jobs}")
    if args.artifacts:
        check_directory(args.artifacts, "--artifacts")
    jobs = args.jobs or usable_cpus()
    results = run_all({"mode": args.mode, "progress": not args.quiet}, only=args.only, artifacts_root=args.artifacts, jobs=jobs)
    print("\n".join(summary_lines(results)))
    update_index(results)  # only these recommendations' rows
    return 0 if all(r["success"] for r in results.values()) else 1


# What a command says when SIGINT or SIGTERM ends it (after 'nba-ml <command>: '), from its arguments and the
# Interrupted (whose message, for train, says at which step the run stopped).
def _train_interrupted(args: argparse.Namespace, err: interrupts.Interrupted) -> str:
    argv = list(args.argv)
    command = " ".join(shlex.quote(a) for a in ["nba-ml", *argv, *([] if "--resume" in argv else ["--resume"])])
    return f"{err}; resume with: {command}"


def _sample_interrupted(args: argparse.Namespace, err: interrupts.Interrupted) -> str:
    try:
        stream = check_output(args.out, "table").stream  # written through: what was written stays
    except InputError:
        stream = False
    if stream:
        return f"{err}; the output to {args.out} is incomplete"
    return f"{err}; nothing was written ({args.out} is as it was)"


def _phase5_interrupted(args: argparse.Namespace, err: interrupts.Interrupted) -> str:
    return (f"{err}; the recommendation in progress was dropped: nothing of it published, its STATUS.md and "
            "PHASE_5_INDEX.md as they were, no staging folder left")


def build_parser() -> argparse.ArgumentParser:
    from .shots.player.profiles import DEFAULT_CHARTS

    parser = argparse.ArgumentParser(prog="nba-ml", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    phase5 = commands.add_parser("phase5", help="run rec_115 and rec_098, print a summary, update their STATUS.md")
    phase5.add_argument("--mode", choices=["production", "development", "test"], default="production",
                        help="training budget: production (minutes), development (about a minute), test (seconds)")
    phase5.add_argument("--only", nargs="+", choices=["rec_115", "rec_098"], help="run only these recommendations")
    phase5.add_argument("--artifacts", metavar="DIR", help="artifacts go to DIR/<rec_id> (default: artifacts/<rec_id>)")
    phase5.add_argument("--quiet", action="store_true", help="no stage lines or progress bars, only the summary")
    phase5.add_argument("--jobs", type=int, default=0, metavar="N",
                        help="training runs at a time, each in its own process (default: the usable CPU cores; 1: one "
                             "after another in this process); the runs' weights are the same either way")
    phase5.set_defaults(func=_phase5, interrupted=_phase5_interrupted)

    train = commands.add_parser("train", help="train a model into a run directory")
    train.add_argument("--config", required=True, help="YAML config (nba_ml/configs/points2d.yaml, nba_ml/configs/shot_charts.yaml)")
    train.add_argument("--out", required=True, help="run directory (config, metrics.jsonl, checkpoints, plots, model/)")
    train.add_argument("--data", help="shot file (CSV, CSV.gz, Parquet) for shot-chart configs; numeric CSV/Parquet for points")
    train.add_argument("--set", action="append", metavar="KEY.PATH=VALUE",
                       help="override a config field, validated like the file (repeatable)")
    train.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint in --out")
    train.add_argument("--quiet", action="store_true", help="print nothing while training but errors")
    train.set_defaults(func=_train, interrupted=_train_interrupted)

    sample = commands.add_parser("sample", help="draw from a trained model")
    sample.add_argument("--checkpoint", required=True, help="a run directory or its model/ folder")
    sample.add_argument("--charts", type=int, required=True, help="charts to generate (points, for point models)")
    sample.add_argument("--shots-per-chart", type=int, help="shots drawn from each chart (shot-chart models)")
    sample.add_argument("--position", metavar="GROUP",
                        help="generate charts of this position group, one of those the model file holds (G, F, C for "
                             "the shipped shot configs)")
    sample.add_argument("--observed", metavar="SHOTS_FILE",
                        help="shots of given players (any seasons): --charts posterior charts for every player in it")
    sample.add_argument("--plot", metavar="FILE", help="with --observed: player cards of the first players (.png, .svg, .pdf)")
    sample.add_argument("--season", help="with --observed: the season the players' shots are for (default: the "
                                          "newest SEASON of the file)")
    sample.add_argument("--seed", type=int, help="makes the draw reproducible (per player: the same whoever else is in the file)")
    sample.add_argument("--out", required=True, help="table to write: .csv, .csv.gz or .parquet (any case), or - for standard output")
    sample.set_defaults(func=_sample, interrupted=_sample_interrupted)

    profile = commands.add_parser("profile", help="build given players' profiles (where they shoot, how well) and save them")
    profile.add_argument("--checkpoint", required=True, help="a run directory or its model/ folder")
    profile.add_argument("--observed", required=True, metavar="SHOTS_FILE",
                         help="the players' shots (any seasons) with SHOT_MADE_FLAG: one profile per player in it")
    profile.add_argument("--out", required=True, metavar="DIR", help="directory for the profiles (and DIR/table.csv, DIR/defenses.csv)")
    profile.add_argument("--plot", metavar="FILE", help="player cards of the first players (.png, .svg, .pdf), and the defense card beside "
                         "(FILE's stem + .defenses: cards.png -> cards.defenses.png)")
    profile.add_argument("--charts", type=int, default=DEFAULT_CHARTS,
                         help=f"posterior chart draws kept per player (default {DEFAULT_CHARTS})")
    profile.add_argument("--season", help="the season the profiles are for (default: the newest SEASON of the file)")
    profile.add_argument("--seed", type=int, help="makes the profiles reproducible")
    profile.set_defaults(func=_profile)

    draw = commands.add_parser("draw", help="a game's shots: one per situation (shooter, defense, moment), from saved profiles")
    draw.add_argument("--profiles", required=True, metavar="DIR", help="profiles saved by nba-ml profile")
    draw.add_argument("--situations", required=True, metavar="FILE",
                      help="PLAYER_ID [, POSITION_GROUP, DEFENSE, PERIOD, SECONDS_LEFT] per shot (.csv, .csv.gz, .parquet, or -); "
                           "other columns kept")
    draw.add_argument("--out", required=True, help="the shots: .csv, .csv.gz or .parquet (any case), or - for standard output")
    draw.add_argument("--season", type=int, default=0,
                      help="which simulated season: one posterior draw of every player and defense (default 0)")
    draw.add_argument("--seed", type=int, help="makes the shots reproducible")
    draw.set_defaults(func=_draw)

    makes = commands.add_parser("makes", help="a player's make probability at given locations, from his record")
    makes.add_argument("--checkpoint", required=True, help="a run directory or its model/ folder")
    makes.add_argument("--observed", metavar="SHOTS_FILE",
                       help="the players' records (shots with SHOT_MADE_FLAG); left out: every player gets his position's rates")
    makes.add_argument("--queries", required=True, metavar="QUERIES",
                       help="PLAYER_ID, LOC_X, LOC_Y per query (QUERY_ID and SHOT_VALUE kept, POSITION_GROUP used)")
    makes.add_argument("--out", required=True, metavar="PRED", help="QUERY_ID, PLAYER_ID, MAKE_PROB (.csv, .csv.gz, .parquet)")
    makes.add_argument("--zones-out", metavar="ZONES",
                       help="PLAYER_ID, SHOT_ZONE_BASIC, ATTEMPTS, MAKE_PROB, FG_LO, FG_HI, NOTE: his 90%% predictive FG%% "
                            "interval on his queries in each zone (a player with no usable query: one row, no zone, "
                            "a NOTE)")
    makes.add_argument("--season", help="the season the queries are in (default: the newest SEASON of --observed)")
    makes.add_argument("--seed", type=int, default=0, help="makes the intervals' draws reproducible (default 0)")
    makes.set_defaults(func=_makes)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    # A warning (e.g. a damaged checkpoint skipped) is one line too, not Python's file:line + source.
    warnings.formatwarning = lambda message, category, *_, **__: f"nba-ml {args.command}: warning: {message}\n"
    stdout = sys.stdout
    try:
        with interrupts.raised():  # SIGINT and SIGTERM raise, so that every temporary file is removed on the way out
            return args.func(args)
    except interrupts.Interrupted as err:  # one line, no traceback; exit 130 (SIGINT) or 143 (SIGTERM)
        say = getattr(args, "interrupted", None)
        print(f"nba-ml {args.command}: {say(args, err) if say else err}", file=sys.stderr)
        return err.exit_status
    except TrainingDiverged as err:  # the run failed (its summary.json says so), not the input: exit 1
        print(f"nba-ml {args.command}: {one_line(err)}", file=sys.stderr)
        return 1
    except (InputError, ValueError, OSError, ImportError) as err:
        # Bad input (or a missing file, an optional extra not installed): one line, exit 2, no traceback.
        print(f"nba-ml {args.command}: {one_line(err)}", file=sys.stderr)
        return 2
    finally:
        sys.stdout = stdout  # a command writing its table to standard output said the rest on stderr


if __name__ == "__main__":
    sys.exit(main())
