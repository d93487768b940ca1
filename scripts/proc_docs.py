"Process the notebooks into `_proc/` the way `nbdev_docs` does before calling Quarto (which cannot be installed offline)."
import nbdev.doclinks
from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
from nbdev.serve import proc_nbs

if __name__ == '__main__':  # proc_nbs uses worker processes
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__()
    proc_nbs()
