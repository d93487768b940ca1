"Write README.md from nbs/index.ipynb (after `scripts/proc_docs.py` has processed it into _proc/), without Quarto."
import re, subprocess, sys
from pathlib import Path

if __name__ == '__main__':
    md = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", "--stdout", "_proc/index.ipynb"],
                        check=True, capture_output=True, text=True).stdout
    md = re.sub(r"\A---\n.*?\n---\n", "", md, flags=re.S)  # YAML front matter
    title = re.search(r"^title: (.*)$", subprocess.run(["cat", "_proc/index.ipynb"], capture_output=True, text=True).stdout, re.M)
    md = re.sub(r"\n{3,}", "\n\n", md).strip() + "\n"
    Path("README.md").write_text("<!-- generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file -->\n\n" + md)
    print(f"README.md: {len(md.splitlines())} lines")
