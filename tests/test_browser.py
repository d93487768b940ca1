"""Browser smoke test of the AMAD explorer: JupyterLab and headless Chromium, driven by Playwright.

JupyterLab serves a temporary copy of nbs/ (autosave never touches the checkout). A small notebook builds
`explore_groups(PYTHIA_1B_DISTANCES)`; the test runs it with Run > Run All Cells, moves the threshold slider with the
mouse and the arrow keys, and checks that the heatmap's group outlines (plotly `layout.shapes`) and the groups table
change to what the Python widget computes for the new threshold. Screenshots go to tests/artifacts/.

A second test opens the copy of nbs/08_widgets.ipynb, runs its cells up to the end of the Pythia-1b explorer section and
checks that explorer the same way; with `LAYERGROUP_BROWSER_FULL=1` it runs the whole notebook first (minutes).

Run with `make test-browser` (it installs Debian's chromium when absent)."""
import json, os, re, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is a dev requirement: make install")

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
JUPYTER = Path(sys.executable).parent / "jupyter"
SMOKE_NB = "amad_explorer_smoke.ipynb"
SMOKE_CELLS = ["from layergroup_sae.widgets import explore_groups",
               "from layergroup_sae.grouping import PYTHIA_1B_DISTANCES",
               "ex = explore_groups(PYTHIA_1B_DISTANCES)",
               "ex"]
TARGET = 0.100  # threshold the slider is moved to (Ĝ goes from 6 to 10 on Pythia-1b)

def _log(msg: str, t0=[time.monotonic()]): print(f"[{time.monotonic() - t0[0]:6.1f}s] {msg}", flush=True)

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def _write_settings(d: Path):
    "User settings of the throwaway JupyterLab: every cell attached to the DOM, no news or update checks."
    for rel, val in [("@jupyterlab/notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none"}),
                     ("@jupyterlab/apputils-extension/notification.jupyterlab-settings", {"fetchNews": "false", "checkForUpdates": False})]:
        p = d / rel; p.parent.mkdir(parents=True, exist_ok=True); p.write_text(json.dumps(val))

def _smoke_notebook() -> dict:
    cells = [dict(cell_type="code", id=f"smoke{i}", metadata={}, execution_count=None, outputs=[], source=s) for i, s in enumerate(SMOKE_CELLS)]
    return dict(nbformat=4, nbformat_minor=5, cells=cells,
                metadata=dict(kernelspec=dict(display_name="Python 3 (ipykernel)", language="python", name="python3")))

@pytest.fixture
def lab(tmp_path, request):
    "A JupyterLab server per test (fresh workspace, one kernel) on a free port, rooted at a temporary copy of nbs/; stopped at teardown."
    tmp = tmp_path
    root = tmp / "nbs"
    shutil.copytree(NBS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_*"))
    (root / SMOKE_NB).write_text(json.dumps(_smoke_notebook(), indent=1))
    _write_settings(tmp / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1"), TOKENIZERS_PARALLELISM="false")
    cmd = [str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={token}",
           "--allow-root", "--LabApp.news_url=None", f"--ServerApp.root_dir={root}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           "--ServerApp.port_retries=0"]
    log = open(tmp / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None: raise RuntimeError(f"jupyter lab exited ({proc.returncode}):\n{(tmp / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200: break
            except OSError: pass
            if time.monotonic() > deadline: raise TimeoutError("jupyter lab did not answer /api/status within 60 s")
            time.sleep(0.3)
        _log(f"jupyter lab ready on port {port}")
        yield dict(base=base, token=token, root=root, log=tmp / "jupyterlab.log")
    finally:
        try:  # a clean shutdown also stops the kernels
            urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"), timeout=5).close()
            proc.wait(timeout=15)
        except Exception: pass
        if proc.poll() is None:
            try: os.killpg(proc.pid, signal.SIGTERM); proc.wait(timeout=10)
            except Exception: pass
        if proc.poll() is None:
            try: os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout=10)
            except Exception: pass
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True); shutil.copy(tmp / "jupyterlab.log", ARTIFACTS / f"{request.node.name}_jupyterlab.log")

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists(): pytest.fail(f"{CHROMIUM} not found: `make test-browser` installs Debian's chromium")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"])
        try: yield b
        finally: b.close()

@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1150})
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(f"pageerror: {e}"))
    pg.on("console", lambda m: pg.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    try: yield pg
    finally: ctx.close()

# --- driving JupyterLab

def open_notebook(page, lab, name: str):
    page.goto(f"{lab['base']}/lab/tree/{name}?reset&token={lab['token']}", wait_until="domcontentloaded", timeout=60_000)
    page.locator(".jp-Notebook").first.wait_for(state="visible", timeout=90_000)
    page.wait_for_function("""name => { const t = document.querySelector('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel');
        return t && t.textContent.trim() === name && document.querySelectorAll('.jp-NotebookPanel').length === 1; }""", arg=name, timeout=60_000)
    page.wait_for_function("""() => {
        const k = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName');
        const i = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
        return k && k.textContent.includes('Python') && i && i.getAttribute('data-status') === 'idle';
    }""", timeout=120_000)
    _log(f"opened {name}: kernel idle")

PROMPTS = "() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim())"

def run_cells(page, item: str = "Run All Cells"):
    "Run > `item` (Run All Cells, Run All Above Selected Cell); retried once if no cell starts."
    for attempt in (1, 2):
        page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
        page.locator(f".lm-Menu-itemLabel:text-is('{item}')").click()
        _log(f"clicked Run > {item} (attempt {attempt})")
        try:
            page.wait_for_function(f"() => ({PROMPTS})().some(p => /\\[(\\*|\\d+)\\]/.test(p))", timeout=20_000)
            return
        except playwright_sync.TimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"Run > {item} started no cell (twice)")

def wait_done(page, timeout_s: float, n_cells: int | None = None):
    "The first `n_cells` code cells (default all) numbered and the kernel idle. Fails early when the run stopped on an error."
    deadline, stalled = time.monotonic() + timeout_s, None
    ind = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator"
    while time.monotonic() < deadline:
        prompts = page.evaluate(PROMPTS)[:n_cells]
        idle = page.get_attribute(ind, "data-status") == "idle"
        done = [bool(re.fullmatch(r"\[\d+\]:", p)) for p in prompts]
        if prompts and all(done) and idle:
            _log(f"{len(prompts)} cells ran"); return
        # Run All stops at a cell that raises: no cell queued ([*]), the kernel idle, later cells still unnumbered
        if idle and not any("*" in p for p in prompts) and any(done):
            stalled = stalled or time.monotonic()
            if time.monotonic() - stalled > 5:
                last = max(i for i, d in enumerate(done) if d)
                out = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").nth(last)
                out.scroll_into_view_if_needed(); shot(page, "run_stopped")
                raise AssertionError(f"the run stopped after code cell {last + 1} of {len(prompts)} {prompts[last]}; its input and output:\n"
                                     + out.inner_text()[-4000:])
        else: stalled = None
        page.wait_for_timeout(500)
    raise AssertionError(f"cells not done within {timeout_s:.0f} s: prompts {page.evaluate(PROMPTS)[:n_cells]}")

# --- reading the explorer from the DOM

FIND = """() => {
    // the first explorer: a VBox holding the 'AMAD τ' slider and a plotly figure
    const v = [...document.querySelectorAll('.jp-OutputArea .widget-vbox')].find(v => v.querySelector('.js-plotly-plot')
        && [...v.querySelectorAll('.widget-label')].some(l => l.textContent.includes('AMAD')));
    if (!v) return false;
    v.setAttribute('data-test-explorer', '1');
    return true;
}"""

STATE = """() => {
    const v = document.querySelector('[data-test-explorer]');
    const gd = [...v.querySelectorAll('.js-plotly-plot')].find(g => g.data && g.data[0] && g.data[0].type === 'heatmap');
    const slider = [...v.querySelectorAll('.widget-hslider')].find(s => s.querySelector('.widget-label').textContent.includes('AMAD'));
    const html = [...v.querySelectorAll('.widget-html')].find(h => h.querySelector('table'));
    const table = html && html.querySelector('table');
    return {
        readout: slider ? slider.querySelector('.widget-readout').textContent.trim() : null,
        title: gd && gd.layout.title ? (gd.layout.title.text ?? gd.layout.title) : null,
        shapes: gd ? (gd.layout.shapes || []).map(s => ({name: s.name, x0: s.x0, x1: s.x1, y0: s.y0, y1: s.y1,
                                                        color: s.line && s.line.color})) : null,
        drawn_shapes: gd ? gd.querySelectorAll('.shapelayer path').length : null,
        caption: html ? html.querySelector('div').textContent : null,
        rows: table ? [...table.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(c => c.textContent.trim())) : null,
        n_plots: v.querySelectorAll('.js-plotly-plot').length,
    };
}"""

def state(page) -> dict: return page.evaluate(STATE)

def expected(threshold: float) -> dict:
    "What the Python widget shows at `threshold`: its outline shapes, the table's SAE names and G."
    from layergroup_sae.widgets import explore_groups, group_table
    from layergroup_sae.grouping import PYTHIA_1B_DISTANCES
    ex = explore_groups(PYTHIA_1B_DISTANCES, threshold=threshold)
    shapes = [dict(name=s.name, x0=s.x0, x1=s.x1, y0=s.y0, y1=s.y1, color=s.line.color) for s in ex.heatmap.layout.shapes]
    saes = group_table(PYTHIA_1B_DISTANCES, ex.groups).sae.tolist()
    return dict(n_groups=ex.n_groups, shapes=shapes, saes=saes, title=ex.heatmap.layout.title.text)

def wait_explorer(page, timeout_s=90):
    page.wait_for_function(FIND, timeout=timeout_s * 1000)
    page.wait_for_function("""() => { const v = document.querySelector('[data-test-explorer]');
        const gd = [...v.querySelectorAll('.js-plotly-plot')].find(g => g.data && g.data[0] && g.data[0].type === 'heatmap');
        return gd && (gd.layout.shapes || []).length > 0 && v.querySelector('.widget-html table') && v.querySelectorAll('.js-plotly-plot').length >= 2; }""",
        timeout=timeout_s * 1000)
    ex = page.locator("[data-test-explorer]")
    ex.scroll_into_view_if_needed()
    return ex

def wait_state(page, pred_js: str, timeout_s=30):
    page.wait_for_function(f"() => {{ const s = ({STATE})(); return ({pred_js})(s); }}", timeout=timeout_s * 1000)

def move_threshold(page, target: float):
    "Drag the threshold handle close to `target`, then step onto it with the arrow keys."
    slider = page.locator("[data-test-explorer] .widget-hslider", has=page.locator(".widget-label", has_text="AMAD")).first
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-target").first
    handle.wait_for(state="attached", timeout=30_000); handle.scroll_into_view_if_needed()
    lo, hi, step = 0.005, 0.995, 0.005
    hb, tb = handle.bounding_box(), track.bounding_box()
    start = state(page)["readout"]
    x0, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    x1 = tb["x"] + tb["width"] * (target + 2 * step - lo) / (hi - lo)  # a little right of the target: the keys finish
    page.mouse.move(x0, y); page.mouse.down(); page.mouse.move(x1, y, steps=12); page.mouse.up()
    page.wait_for_function(f"() => ({STATE})().readout !== {json.dumps(start)}", timeout=15_000)
    after_drag = state(page)["readout"]
    _log(f"dragged threshold handle: readout {start} -> {after_drag}")
    handle.focus()
    for _ in range(40):
        r = state(page)["readout"]
        if abs(float(r) - target) < step / 2: break
        page.keyboard.press("ArrowLeft" if float(r) > target else "ArrowRight")
        page.wait_for_function(f"() => ({STATE})().readout !== {json.dumps(r)}", timeout=10_000)
    r = state(page)["readout"]
    _log(f"after arrow keys: readout {r}")
    assert abs(float(r) - target) < step / 2, f"slider readout {r}, wanted {target:.3f}"
    return after_drag, float(r)

def shot(page, name: str, explorer=None):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if explorer is not None: explorer.screenshot(path=str(ARTIFACTS / f"{name}_widget.png"))

def check_explorer(page, prefix: str):
    "Shared part of both tests: read the explorer, move the threshold, check outlines and table against Python."
    explorer = wait_explorer(page)
    before = state(page)
    _log(f"before: readout {before['readout']}, title {before['title']!r}, {len(before['shapes'])} shapes "
         f"({before['drawn_shapes']} drawn), table rows {[r[0] for r in before['rows']]}")
    e0 = expected(float(before["readout"]))
    assert before["shapes"] == e0["shapes"] and len(before["shapes"]) == e0["n_groups"] + 1
    assert [r[0] for r in before["rows"]] == e0["saes"] and f"G = {e0['n_groups']} " in before["caption"]
    assert before["drawn_shapes"] == len(before["shapes"]) and before["n_plots"] == 2
    assert all(s["color"] == "white" for s in before["shapes"])
    page.mouse.move(5, 5); page.wait_for_timeout(300)
    shot(page, f"{prefix}_before", explorer)

    _, value = move_threshold(page, TARGET)
    e1 = expected(value)
    assert e1["n_groups"] != e0["n_groups"], "the target threshold must change Ĝ on this matrix"
    try: wait_state(page, f"s => s.shapes.length === {len(e1['shapes'])} && s.caption.includes('G = {e1['n_groups']} ') "
                          f"&& s.rows.length === {len(e1['saes'])} && s.drawn_shapes === {len(e1['shapes'])}", timeout_s=30)
    except playwright_sync.TimeoutError: pass  # the asserts below say what differs
    after = state(page)
    _log(f"after:  readout {after['readout']}, title {after['title']!r}, {len(after['shapes'])} shapes "
         f"({after['drawn_shapes']} drawn), table rows {[r[0] for r in after['rows']]}")
    page.mouse.move(5, 5); page.wait_for_timeout(300)
    shot(page, f"{prefix}_after", explorer)
    (ARTIFACTS / f"{prefix}_dom.json").write_text(json.dumps(dict(before=before, after=after, console=page.errors), indent=1, ensure_ascii=False))

    assert after["shapes"] != before["shapes"] and after["rows"] != before["rows"] and after["title"] != before["title"]
    assert after["shapes"] == e1["shapes"], (after["shapes"], e1["shapes"])
    assert [r[0] for r in after["rows"]] == e1["saes"]
    assert f"G = {e1['n_groups']} " in after["caption"] and f"τ = {value:.3f}" in after["caption"]
    assert after["title"] == e1["title"] and after["drawn_shapes"] == len(after["shapes"])
    if page.errors: _log(f"console errors: {page.errors[:5]}")
    return before, after

def test_amad_explorer_smoke(lab, page):
    "The small notebook: import, build the explorer on Pythia-1b, show it; then move the threshold."
    t0 = time.monotonic()
    open_notebook(page, lab, SMOKE_NB)
    run_cells(page)
    wait_done(page, timeout_s=120)
    check_explorer(page, "amad_smoke")
    _log(f"smoke test done in {time.monotonic() - t0:.1f} s")

WIDGETS_NB = "08_widgets.ipynb"
EXPLORER_END = "### On the embedded model"  # the heading after the Pythia-1b explorer's cells

def test_widgets_notebook_explorer(lab, page):
    """nbs/08_widgets.ipynb (a copy): its cells up to the end of the Pythia-1b explorer section (Run All Above Selected Cell),
    which also drive the explorer from Python; then the threshold slider is moved in the browser.
    With LAYERGROUP_BROWSER_FULL=1 the whole notebook runs instead (Run All Cells: trains SAEs, loads SmolLM2; minutes)."""
    t0, full = time.monotonic(), os.environ.get("LAYERGROUP_BROWSER_FULL") == "1"
    cells = json.loads((NBS / WIDGETS_NB).read_text())["cells"]
    end = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "".join(c["source"]).startswith(EXPLORER_END))
    n_code = sum(c["cell_type"] == "code" for c in cells[:end])
    open_notebook(page, lab, WIDGETS_NB)
    if full:
        run_cells(page, "Run All Cells")
        wait_done(page, timeout_s=float(os.environ.get("LAYERGROUP_BROWSER_FULL_TIMEOUT", 480)))
    else:
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(end).locator(".jp-InputPrompt").first.click()
        run_cells(page, "Run All Above Selected Cell")
        wait_done(page, timeout_s=150, n_cells=n_code)
        assert not any(re.fullmatch(r"\[\d+\]:", p) for p in page.evaluate(PROMPTS)[n_code:]), "cells past the explorer section ran"
    check_explorer(page, "widgets_nb")
    _log(f"widgets notebook test done in {time.monotonic() - t0:.1f} s")
