"""Run every notebook under nbs/ the way `nbdev_test` does (cells flagged in `tst_flags` are skipped), one pytest case each.
Each executed notebook is also written to `_exec/` (outputs included), which `make docs` renders instead of running the notebooks again."""
import os, sys, time
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from fastcore.foundation import working_directory

cfg = get_config()
ROOT = Path(cfg.config_path)
NBS = sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
             if not any(s.startswith(('_', '.')) for s in p.relative_to(cfg.nbs_path).parts))
EXEC = ROOT/'_exec'

def run_notebook(fn: Path, skip_flags=(), save_to: Path | None = None) -> tuple[bool, str]:
    "Execute `fn` (skipping cells with `skip_flags`, `#| eval: false` cells and export calls); save the executed copy under `save_to`."
    os.environ['IN_TEST'] = '1'
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    flags = set(skip_flags)
    def no_eval(cell):
        if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
        d = getattr(cell, 'directives_', {}) or {}
        return d.get('eval:', [''])[0].lower() == 'false' or bool(flags & d.keys())
    k = CaptureShell(fn)
    try:
        with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=no_eval)
    except Exception: return False, k.prettytb(fname=fn)
    if save_to is not None:
        raw = read_nb(fn)
        outs = {c.get('id'): c for c in nb.cells if c.cell_type == 'code'}
        for c in raw.cells:
            if c.cell_type == 'code' and c.get('id') in outs:
                c['outputs'] = outs[c['id']].get('outputs', []); c['execution_count'] = outs[c['id']].get('execution_count')
        dest = save_to/fn.relative_to(cfg.nbs_path); dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f'.{dest.name}.tmp'); write_nb(raw, tmp); os.replace(tmp, dest)
    return True, ''

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    t = time.time()
    ok, tb = run_notebook(nb, cfg.tst_flags.split(), EXEC)
    assert ok, f"{nb.name} failed:\n{tb}"
    print(f"{nb.name}: {time.time() - t:.0f} s")
