"""The package's shape: every public name of the API contract imports, no module imports a name it does not use (pyflakes),
the import graph has no cycles and data flows one way, and no function grows past ~60 lines without a written reason."""
import ast, importlib, re
from pathlib import Path
import pytest

PKG = Path(__file__).resolve().parents[1]/"layergroup_sae"
MODULES = sorted(p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_"))
MAX_LINES = 60

# the public API contract (DESIGN.md): module -> names that must keep working
API = {
    "models": ["load_model"],
    "data": ["token_batches"],
    "activations": ["capture", "ActivationSpec", "capture_batch", "activation_stream", "activation_batches", "norm_factors",
                    "norm_scaling_factors", "ActivationCache", "build_cache", "hook_name", "HOOKS"],
    "distances": ["layer_distances", "LayerDistances", "layer_distances_from_acts"],
    "grouping": ["amad", "contiguous_groups", "group_sweep", "choose_n_groups", "validate_groups", "group_name"],
    "sae": ["TopKSAE", "SAEConfig"],
    "training": ["train_saes", "TrainConfig", "load_run"],
    "evaluation": ["evaluate", "compare"],
    "files": ["atomic_write", "atomic_text", "atomic_json", "atomic_csv", "atomic_dir"],
}

@pytest.mark.parametrize("mod", sorted(API))
def test_public_api_imports(mod):
    m = importlib.import_module(f"layergroup_sae.{mod}")
    missing = [n for n in API[mod] if not hasattr(m, n)]
    assert not missing, f"layergroup_sae.{mod} lacks {missing}"

def test_pyflakes_clean():
    from pyflakes.api import checkPath
    from pyflakes.reporter import Reporter
    import io
    out, err = io.StringIO(), io.StringIO()
    n = sum(checkPath(str(p), Reporter(out, err)) for p in sorted(PKG.glob("*.py")) if p.name != "_modidx.py")
    assert n == 0, f"pyflakes found {n} problem(s):\n{out.getvalue()}{err.getvalue()}"

def _imports(mod: str) -> set[str]:
    "Package modules that `mod` imports (relative or absolute), at any depth of its code."
    tree = ast.parse((PKG/f"{mod}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level == 1 and name: out.add(name.split(".")[0])
            elif name.startswith("layergroup_sae."): out.add(name.split(".")[1])
            elif node.level == 1 and not name: out |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("layergroup_sae.")}
    return (out & set(MODULES)) - {mod}

def test_import_graph_has_no_cycles():
    graph = {m: _imports(m) for m in MODULES}
    state = {}
    def visit(m, path):
        if state.get(m) == "done": return
        assert state.get(m) != "open", f"import cycle: {' -> '.join(path + [m])}"
        state[m] = "open"
        for n in sorted(graph[m]): visit(n, path + [m])
        state[m] = "done"
    for m in MODULES: visit(m, [])

def test_no_module_imports_itself():
    for m in MODULES:
        src = (PKG/f"{m}.py").read_text()
        assert not re.search(rf"from layergroup_sae\.{m} import|from \.{m} import", src), f"{m}.py imports from itself"

def _long_functions(path: Path) -> list[str]:
    "Functions longer than MAX_LINES with no comment right above them (their decorators) saying why."
    lines = path.read_text().splitlines()
    bad = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n <= MAX_LINES: continue
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1  # 0-based line of the def or its first decorator
            above = lines[first - 1].strip() if first > 0 else ""
            if not above.startswith("#"): bad.append(f"{path.name}:{node.lineno} {node.name} ({n} lines)")
    return bad

def test_functions_are_short_or_explained():
    bad = [b for p in sorted(PKG.glob("*.py")) if p.name != "_modidx.py" for b in _long_functions(p)]
    assert not bad, f"functions over {MAX_LINES} lines without a comment above saying why: {bad}"

def test_no_hand_written_atomic_writes():
    "Every atomic write goes through `files`: no other module renames temporary files into place itself."
    offenders = [p.name for p in PKG.glob("*.py") if p.stem not in ("files", "_modidx") and "os.replace(" in p.read_text()]
    assert not offenders, f"hand-written tmp + os.replace in {offenders}: use layergroup_sae.files"
