"""Process the notebooks into `_proc/` the way `nbdev_docs` does before calling Quarto (which cannot be installed offline).
Pages show the outputs of the executed notebooks in `_exec/` (written by `make test`); notebooks without an up-to-date
executed copy are run here first (cells flagged in `tst_flags` are skipped, as in the tests)."""
import shutil, sys
from pathlib import Path
import nbdev.doclinks
from nbdev.config import get_config
from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
from nbdev.serve import proc_nbs

if __name__ == '__main__':  # proc_nbs uses worker processes
    cfg = get_config(); root = Path(cfg.config_path); nbs = Path(cfg.nbs_path); ex = root/'_exec'
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__()
    src = root/'_docsrc'
    shutil.rmtree(src, ignore_errors=True); shutil.copytree(nbs, src)
    sys.path.insert(0, str(root/'tests'))
    from test_notebooks import NBS, run_notebook
    for nb in NBS:
        e = ex/nb.relative_to(nbs)
        if not (e.exists() and e.stat().st_mtime >= nb.stat().st_mtime):
            print(f"executing {nb.name} (no up-to-date copy in _exec/)", flush=True)
            ok, tb = run_notebook(nb, cfg.tst_flags.split(), ex)
            if not ok: sys.exit(f"{nb.name} failed:\n{tb}")
        shutil.copy(e, src/nb.relative_to(nbs))
    shutil.rmtree(root/'_proc', ignore_errors=True)
    proc_nbs(path=str(src), force=True)
    shutil.rmtree(src)
