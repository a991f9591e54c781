"""How the package is laid out: no import cycle, lower layers never import upper ones, configs are
validated at the edge only. Read from the source (ast), so imports inside functions and under
`if TYPE_CHECKING:` count as much as those at the top of a module."""
import ast
from pathlib import Path
from typing import Optional

import nba_ml

PACKAGE = Path(nba_ml.__file__).resolve().parent

# Lowest first: a module may import from its own layer and the layers before it, never after.
LAYERS = (
    ("nba_ml.errors", "nba_ml.frames", "nba_ml.interrupts", "nba_ml.io", "nba_ml.memory", "nba_ml.plots", "nba_ml.configs"),
    ("nba_ml.gan",),
    ("nba_ml.shots",),
    ("nba_ml.phase5",),
    ("nba_ml.cli", "nba_ml.__main__"),
)

# Where a config is validated (a `validate_*` or `model_validate` call): where a raw dict enters the
# package. Anything inward takes the typed config and trusts it.
VALIDATING_FUNCTIONS = {
    "nba_ml.cli._train_points",  # --config and --set
    "nba_ml.cli._train_shots",
    "nba_ml.gan.config.validate_config",  # the dict -> GANConfig edge itself
    "nba_ml.gan.config.GANConfig.merged",  # a derived config: values laid over a valid one are checked again
    "nba_ml.gan.config.load_config",  # a YAML file
    "nba_ml.gan.export.read_export_file",  # a saved model.yaml
    "nba_ml.gan.runs.read_run_config",  # a run directory's config.yaml, read back
    "nba_ml.gan.training.train",  # the public entry documented to take a dict (docs/configuration.md)
    "nba_ml.phase5.config.shot_model_config",  # setup(): the plugin's shot settings checked together
    "nba_ml.phase5.plugin.Phase5Plugin.setup",  # the plugin's config dict
    "nba_ml.shots.model.ShotModelConfig",  # its default GAN section, a literal
    "nba_ml.shots.model.validate_shot_config",  # the dict -> ShotModelConfig edge itself
    "nba_ml.shots.model.load_shot_config",  # a YAML file
    "nba_ml.shots.model.ShotChartModel.load",  # a saved model.yaml
    "nba_ml.shots.player.profiles_file.read_profiles",  # a saved profiles.json
    "nba_ml.shots.training.train_shot_model",  # the public entry documented to take a dict (docs/shot_charts.md)
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(module: str, tree: ast.AST) -> set[str]:
    """The package modules `module` imports anywhere in its source (a `from X import name` of a
    submodule counts as importing the submodule)."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imported(module, ast.parse(path.read_text(encoding="utf-8"))) for module, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path a -> b -> ... -> a) through each strongly connected part of the graph (Tarjan)."""
    index, low, stack, on_stack, parts = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                part.add(member)
                if member == node:
                    break
            if len(part) > 1:
                parts.append(part)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [cycle_in(graph, part) for part in parts]


def cycle_in(graph: dict[str, set[str]], part: set[str]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected part (breadth-first)."""
    start = min(part)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & part):
                if target == start:
                    return paths[node] + [start]
                if target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def layer_of(module: str) -> Optional[int]:
    """The index in LAYERS of the layer holding `module` (the package's own __init__, __version__ only, is the
    lowest), or None."""
    if module == "nba_ml":
        return 0
    return next((i for i, layer in enumerate(LAYERS) for prefix in layer
                 if module == prefix or module.startswith(prefix + ".")), None)


def called(call: ast.Call) -> str:
    """The name a call calls: 'f' for f(...) and for obj.f(...)."""
    return getattr(call.func, "id", getattr(call.func, "attr", ""))


def test_the_walk_sees_imports_inside_functions_and_under_type_checking():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .plots import plt\n"
                     "def f():\n    from .gan import losses\n    import nba_ml.errors\n")
    assert imported("nba_ml.io", tree) == {"nba_ml.plots", "nba_ml.gan.losses", "nba_ml.errors"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_no_module_of_the_package_imports_one_that_imports_it_back():
    found = cycles(GRAPH)
    assert not found, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in found)


def test_lower_layers_never_import_upper_ones():
    upward = [f"{module} imports {target}" for module, targets in GRAPH.items() for target in sorted(targets)
              if layer_of(target) > layer_of(module)]
    assert not upward, "; ".join(upward)


def test_the_gan_library_never_names_phase5():
    named = [f"{module}: {line.strip()}" for module, path in MODULES.items() if module.startswith("nba_ml.gan")
             for line in path.read_text(encoding="utf-8").splitlines() if "phase5" in line or "Phase 5" in line]
    assert not named, "; ".join(named)


def test_every_module_is_in_a_layer():
    assert [module for module in MODULES if layer_of(module) is None] == []


def test_configs_are_validated_where_they_enter_the_package_only():
    calls = set()
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope, node in scoped_nodes(tree, module):
            if isinstance(node, ast.Call) and (called(node).startswith("validate_") or called(node) == "model_validate"):
                calls.add(scope)
    assert calls <= VALIDATING_FUNCTIONS, f"validated again inside: {sorted(calls - VALIDATING_FUNCTIONS)}"


def scoped_nodes(node: ast.AST, scope: str):
    """(qualified name of the innermost enclosing class or function, node) for every node below `node`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from scoped_nodes(child, f"{scope}.{child.name}")
        else:
            yield scope, child
            yield from scoped_nodes(child, scope)
