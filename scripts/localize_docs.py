"""Make the built site in `_docs/` work with no network: drop plotly's MathJax request, and serve KaTeX (which smalldocs loads from a CDN on pages with maths)
from `_docs/site_libs/katex/`, fetched once from the npm registry with `npm pack` and cached under ~/.cache/layergroup_sae/."""
import os, re, shutil, subprocess, sys, tarfile, tempfile
from pathlib import Path

KATEX_VERSION = "0.16.11"
CDN = f"https://cdn.jsdelivr.net/npm/katex@{KATEX_VERSION}/dist"

def katex_dist() -> Path:
    "KaTeX's dist folder, from the cache or `npm pack`."
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home()/".cache"))/"layergroup_sae"/f"katex-{KATEX_VERSION}"
    if (cache/"katex.min.js").exists(): return cache
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"katex@{KATEX_VERSION}", "--silent"], cwd=tmp, check=True, capture_output=True)
        with tarfile.open(next(Path(tmp).glob("katex-*.tgz"))) as t: t.extractall(tmp, filter="data")
        cache.parent.mkdir(parents=True, exist_ok=True)
        part = cache.with_name(cache.name + ".part"); shutil.rmtree(part, ignore_errors=True)
        shutil.copytree(Path(tmp)/"package"/"dist", part); os.replace(part, cache)
    return cache

# plotly's notebook output asks for MathJax (for LaTeX in figure labels, which we do not use); drop the request
PLOTLY_MATHJAX = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"]*"[^>]*>\s*</script>')

if __name__ == "__main__":
    docs = Path(sys.argv[1] if len(sys.argv) > 1 else "_docs")
    for p in docs.rglob("*.html"):
        t = p.read_text(errors="ignore")
        if PLOTLY_MATHJAX.search(t): p.write_text(PLOTLY_MATHJAX.sub("", t))
    pages = [p for p in docs.rglob("*.html") if CDN in p.read_text(errors="ignore")]
    if not pages: sys.exit(0)
    dest = docs/"site_libs"/"katex"
    shutil.rmtree(dest, ignore_errors=True); shutil.copytree(katex_dist(), dest)
    for p in pages:
        rel = os.path.relpath(dest, p.parent).replace(os.sep, "/")
        p.write_text(p.read_text().replace(CDN, rel))
    print(f"KaTeX {KATEX_VERSION} served locally on {len(pages)} page(s)")
