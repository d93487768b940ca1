"Check the built site in `_docs/`: one page per notebook, and no page loads anything from the network (CDNs)."
import re, sys
from pathlib import Path
from nbdev.config import get_config

cfg = get_config(); docs = Path(cfg.config_path)/'_docs'
nbs = sorted(p for p in Path(cfg.nbs_path).glob('*.ipynb') if not p.name.startswith(('_', '.')))
missing = [p.name for p in nbs if not (docs/f"{p.stem}.html").exists()]
remote = re.compile(r'<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*["\'](?:https?:)?//', re.I)
cdn = {str(p.relative_to(docs)): sorted(set(m.group(0)[:120] for m in remote.finditer(p.read_text(errors='ignore'))))
       for p in docs.rglob('*.html')}
cdn = {k: v for k, v in cdn.items() if v}
for p in missing: print(f"no page for notebook {p}")
for k, v in cdn.items(): print(f"{k} loads from the network: {v}")
print(f"{len(nbs)} notebooks, {len(list(docs.rglob('*.html')))} pages, {len(missing)} missing, {len(cdn)} with network references")
sys.exit(1 if missing or cdn else 0)
