"""GPU benchmarks at the paper's Pythia-160m shapes (run by benchmarks/gpu.sh).

    python benchmarks/gpu.py [--cpu-smoke] [--json FILE] [--slice-seconds 300] [--skip-slice]

Sections (each prints a table and its ratios):
1. capture throughput: all-layer capture with the early stop vs the full forward (`capture_batch(..., logits=True)`),
   rows of 1024 tokens;
2. one SAE training step at d 768, m 12,288, k 128 on the preset's 131,072-row batch vs the dense encoder matmul alone;
3. the suite step: `train_saes` on cached activations, the per-layer suite (12 SAEs) vs the Ĝ suite (the paper's
   Ĝ = 6 groups + the last layer = 7 SAEs), and the suite's SAE-positions/s against the single step's;
4. a slice of `PYTHIA_160M` through the `layergroup-sae run` command, its budgets sized from sections 1-2 to take about
   `--slice-seconds`, with the full preset's time extrapolated from it.

The model is `EleutherAI/pythia-160m` and the corpus the preset's when the hub answers; offline, stand-ins of the same
shape are built (a randomly initialised GPT-NeoX with Pythia-160m's config: same FLOPs per token; rows of random ids
in the preset corpus's layout, saved with `save_to_disk`), so every number but the slice's quality is meaningful.
`--cpu-smoke` runs every section on the CPU with tiny sizes (a check of the script, not a measurement).
"""
from __future__ import annotations
import argparse, json, math, os, re, statistics, subprocess, sys, tempfile, time
from dataclasses import replace
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layergroup_sae.models import _hub_reachable, default_checkpoint, load_model
from layergroup_sae.activations import ActivationSpec, capture_batch
from layergroup_sae.sae import TopKSAE
from layergroup_sae.training import TrainConfig, make_optimizer, train_saes, train_step
from layergroup_sae.experiment import PYTHIA_160M

PAPER_GROUPS_160M = [[0, 1], [2], [3, 4], [5, 6], [7, 8], [9, 10], [11]]  # Ĝ = 6 (PAPER.md §4) + the last layer's own SAE
FULL = dict(d=768, L=12, heads=12, ffn=3072, vocab=50304, ctx=1024, rows=128, m=12288, k=128, capture_rows=32)
SMOKE = dict(d=64, L=4, heads=4, ffn=128, vocab=None, ctx=64, rows=8, m=1024, k=16, capture_rows=4)


def sync(dev: torch.device):
    if dev.type == "cuda": torch.cuda.synchronize(dev)


def timeit(fn, dev: torch.device, reps: int, warmup: int = 1) -> float:
    "Median wall-clock seconds of `fn()` over `reps` runs after `warmup` runs, the device synchronised around each."
    for _ in range(warmup): fn()
    ts = []
    for _ in range(reps):
        sync(dev); t = time.perf_counter(); fn(); sync(dev); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def table(rows: list[dict], cols: list[str]) -> str:
    fmt = lambda v: f"{v:,.4g}" if isinstance(v, float) else str(v)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    return "\n".join(out + ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows])


# --- the model and the corpus -----------------------------------------------------------------------------------

def stand_in_model(work: Path, s: dict) -> Path:
    "A randomly initialised GPT-NeoX of the given shape (Pythia-160m's at full size), saved with the embedded tokenizer."
    from transformers import AutoTokenizer, GPTNeoXConfig, GPTNeoXForCausalLM
    path = work/"stand_in_model"
    if (path/"config.json").exists(): return path
    tok = AutoTokenizer.from_pretrained(str(default_checkpoint()))
    torch.manual_seed(0)
    cfg = GPTNeoXConfig(vocab_size=s["vocab"] or len(tok), hidden_size=s["d"], num_hidden_layers=s["L"], num_attention_heads=s["heads"],
                        intermediate_size=s["ffn"], max_position_embeddings=max(2048, s["ctx"]), rotary_pct=0.25, use_parallel_residual=True)
    GPTNeoXForCausalLM(cfg).save_pretrained(path); tok.save_pretrained(path)
    return path


def stand_in_corpus(work: Path, tokenizer, ctx: int, n_tokens: int) -> Path:
    "Rows of random ids in the preset corpus's layout (a `tokens` column, BOS + ctx-1 ids), saved with `save_to_disk`."
    import datasets
    path = work/"stand_in_corpus"
    n = max(64, math.ceil(n_tokens / (ctx - 1)))
    if path.exists() and datasets.load_from_disk(str(path)).num_rows >= n: return path
    rng = np.random.default_rng(0)
    ids = rng.integers(3, len(tokenizer), size=(n, ctx), dtype=np.int32); ids[:, 0] = tokenizer.bos_token_id
    datasets.Dataset.from_dict({"tokens": ids}).save_to_disk(str(path))
    return path


def model_and_corpus(a, s: dict, work: Path) -> tuple[str, str, bool]:
    "The preset's model and corpus when the hub answers (and not --cpu-smoke), else the stand-ins' paths; and whether stand-ins are used."
    if not a.cpu_smoke and (a.model or _hub_reachable()):
        return a.model or PYTHIA_160M.data.model, a.corpus or PYTHIA_160M.data.corpus, False
    return str(stand_in_model(work, s)), "", True


# --- sections ---------------------------------------------------------------------------------------------------

def bench_capture(model, tokens: torch.Tensor, dev, reps: int) -> list[dict]:
    spec = ActivationSpec()
    rows = []
    for name, logits in [("early stop", False), ("full forward (logits=True)", True)]:
        sec = timeit(lambda: capture_batch(model, tokens, spec, logits=logits), dev, reps)
        rows.append(dict(capture=name, seconds=sec, tokens_per_s=tokens.numel() / sec))
    for r in rows: r["speedup"] = r["tokens_per_s"] / rows[1]["tokens_per_s"]
    return rows


def bench_step(x: torch.Tensor, m: int, k: int, dev, reps: int) -> dict:
    "One train_step (forward, backward, clip, Adam) at [N, d] -> m latents, k active, vs the dense encoder forward matmul."
    N, d = x.shape
    torch.manual_seed(0)
    sae = TopKSAE(d, m, k, layers=[0], device=dev); sae.set_scales({0: 1.0})
    opt = make_optimizer(sae, TrainConfig(n_latents=m, k=k))
    layer = torch.zeros(N, dtype=torch.long, device=dev)
    step = timeit(lambda: train_step(sae, opt, x, layer, lr=1e-4), dev, reps)
    W, b = sae.W_enc.detach().clone(), sae.b_enc.detach().clone()
    floor = timeit(lambda: F.linear(x, W, b), dev, reps)
    return dict(N=N, d=d, m=m, k=k, step_s=step, matmul_s=floor, step_over_matmul=step / floor, positions_per_s=N / step)


def bench_suites(acts: torch.Tensor, groups: list[list[int]], m: int, k: int, batch: int, dev) -> dict:
    "Wall-clock of train_saes on the same cached activations [L, P, d]: every layer's own SAE vs the given groups."
    L, P, _ = acts.shape
    cfg = TrainConfig(n_tokens=P, n_latents=m, k=k, batch_tokens=batch, norm_tokens=batch, device=str(dev), seed=0)
    batches = [acts[:, i:i + batch] for i in range(0, P - batch + 1, batch)]
    out = {}
    for name, gs in [("per-layer", [[l] for l in range(L)]), ("group", groups)]:
        sync(dev); t = time.perf_counter()
        train_saes(None, batches, gs, cfg, layers=list(range(L)), progress=False)
        sync(dev); out[name] = time.perf_counter() - t
    n_steps = len(batches)
    return dict(L=L, n_group_saes=len(groups), positions=n_steps * batch, steps=n_steps, per_layer_s=out["per-layer"], group_s=out["group"],
                ratio=out["per-layer"] / out["group"], ideal=L / len(groups),
                per_layer_sae_positions_per_s=L * n_steps * batch / out["per-layer"], group_sae_positions_per_s=len(groups) * n_steps * batch / out["group"])


def slice_budgets(capture_tps: float, step_s: float, rows: int, ctx: int, n_saes: int, seconds: float) -> dict:
    "Stage budgets for a slice of about `seconds`: a tenth on distances, 60% on training, the rest on evaluation and overheads."
    per_step = rows * ctx / capture_tps + n_saes * step_s  # one forward of the batch + every SAE's step
    steps = max(2, int(0.6 * seconds / per_step))
    return dict(distance_tokens=max(rows * ctx, int(0.1 * seconds * capture_tps) // (rows * ctx) * rows * ctx),
                n_tokens=steps * rows * (ctx - 1), eval_tokens=max(4, rows // 2) * (ctx - 1), steps=steps, est_step_s=per_step)


def run_slice(a, s: dict, work: Path, model_name: str, corpus: str, stand_in: bool, bench: dict, dev) -> dict:
    "A slice of PYTHIA_160M through `layergroup-sae run --config <preset json> --train.n_tokens ...`; returns timings and the extrapolation."
    L = s["L"]
    n_saes = L + (L - 2)  # every baseline + the L-2 multi-layer groups of a nested sweep over layers 0..L-2
    b = slice_budgets(bench["capture"][0]["tokens_per_s"], bench["step"]["step_s"], s["rows"], s["ctx"], n_saes, a.slice_seconds)
    cfg = PYTHIA_160M
    if a.cpu_smoke: cfg = replace(cfg, train=replace(cfg.train, n_latents=s["m"], k=s["k"]))  # the preset's structure, tiny sizes
    if stand_in:
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(model_name)
        need = max(b["distance_tokens"], b["n_tokens"] + min(PYTHIA_160M.train.norm_tokens, b["n_tokens"])) + 25 * b["eval_tokens"]  # the held-out split is 5% of the rows
        corpus = str(stand_in_corpus(work, tok, s["ctx"], need))
    cfg = replace(cfg, data=replace(cfg.data, model=model_name, corpus=corpus, ctx_len=s["ctx"], batch_size=s["rows"]), device=str(dev),
                  out=str(work/"slice"))
    (work/"preset.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    flags = ["--train.n_tokens", str(b["n_tokens"]), "--grouping.distance_tokens", str(b["distance_tokens"]), "--eval.eval_tokens", str(b["eval_tokens"])]
    cmd = [sys.executable, "-c", "from layergroup_sae.experiment import main; main()", "run", "--config", str(work/"preset.json"), *flags]
    print(f"$ layergroup-sae run --config {work/'preset.json'} {' '.join(flags)}", flush=True)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    total = time.perf_counter() - t0
    log = p.stdout + p.stderr
    print("\n".join(l for l in log.splitlines() if l.startswith("[")))
    if p.returncode != 0: raise SystemExit(f"the preset slice failed (exit {p.returncode}):\n{log[-3000:]}")
    stamps = {}
    for l in log.splitlines():
        m = re.match(r"\[(\d\d):(\d\d):(\d\d)\] (.*)", l)
        if m: stamps.setdefault(re.sub(r"\d+ ", "", m.group(4))[:24], int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)))
    keys = list(stamps)
    t_train = next((stamps[keys[i + 1]] - stamps[k] for i, k in enumerate(keys[:-1]) if "training" in k), float("nan"))
    step_s = t_train / b["steps"]
    full_steps = PYTHIA_160M.train.n_tokens / (PYTHIA_160M.data.batch_size * (PYTHIA_160M.data.ctx_len - 1))
    return dict(**b, total_s=total, train_s=t_train, measured_step_s=step_s, full_preset_train_hours=full_steps * step_s / 3600)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cpu-smoke", action="store_true", help="every section on the CPU with tiny sizes (checks the script; measures nothing)")
    p.add_argument("--model", default="", help="model to capture from (default: the preset's, or the offline stand-in)")
    p.add_argument("--corpus", default="", help="corpus for the slice (default: the preset's, or the offline stand-in)")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions (medians reported)")
    p.add_argument("--suite-steps", type=int, default=6, help="steps of the suite benchmark")
    p.add_argument("--slice-seconds", type=float, default=300, help="target length of the preset slice")
    p.add_argument("--skip-slice", action="store_true", help="sections 1-3 only")
    p.add_argument("--work", default="", help="scratch folder (default: a new temporary one)")
    p.add_argument("--json", default="", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    if not a.cpu_smoke and not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py: no CUDA GPU here (torch.cuda.is_available() is False); use --cpu-smoke to check the script on a CPU")
    s = SMOKE if a.cpu_smoke else FULL
    if a.cpu_smoke: a.reps, a.suite_steps, a.slice_seconds = 1, 2, 20
    dev = torch.device("cpu" if a.cpu_smoke else "cuda")
    # float32 matmuls as the package runs them (no TF32; the reference code enabled it with set_float32_matmul_precision("high"))
    work = Path(a.work or tempfile.mkdtemp(prefix="gpu_bench_")); work.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__}, device {torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'}, work folder {work}")
    model_name, corpus, stand_in = model_and_corpus(a, s, work)
    print(f"model: {model_name}{' (offline stand-in: random weights, the same shape)' if stand_in else ''}")
    model = load_model(model_name, device=dev)
    L = model.cfg.n_layers
    res = {}

    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(3, len(model.tokenizer), (s["capture_rows"], s["ctx"]), generator=g)
    tokens[:, 0] = model.tokenizer.bos_token_id
    tokens = tokens.to(dev)
    res["capture"] = bench_capture(model, tokens, dev, a.reps)
    print(f"\n## 1. Capture of all {L} layers, {tokens.shape[0]} x {tokens.shape[1]} tokens per forward (median of {a.reps})\n")
    print(table(res["capture"], ["capture", "seconds", "tokens_per_s", "speedup"]))
    print(f"\nearly stop / full forward: {res['capture'][0]['speedup']:.2f}x")

    # real activations of this model (random ids when offline), BOS dropped: the suite's cache and the step's input
    rows_per_step = s["rows"] * (s["ctx"] - 1)
    need = max(rows_per_step * a.suite_steps, rows_per_step)
    acts, n = torch.empty(L, need, model.cfg.d_model, device=dev), 0  # [L, positions, d]
    while n < need:
        t = torch.randint(3, len(model.tokenizer), (s["capture_rows"], s["ctx"]), generator=g); t[:, 0] = model.tokenizer.bos_token_id
        c = capture_batch(model, t.to(dev), ActivationSpec()).acts[:, : need - n]
        acts[:, n:n + c.shape[1]] = c; n += c.shape[1]
    l = L // 2
    x = acts[l, :rows_per_step] / acts[l, :rows_per_step].norm(dim=1).mean()
    res["step"] = bench_step(x, s["m"], s["k"], dev, a.reps)
    r = res["step"]
    print(f"\n## 2. One SAE step: layer {l}, N {r['N']:,} rows, d {r['d']}, m {r['m']:,}, k {r['k']} (median of {a.reps})\n")
    print(table([r], ["N", "step_s", "matmul_s", "step_over_matmul", "positions_per_s"]))
    print(f"\nstep / dense encoder matmul: {r['step_over_matmul']:.2f} (issue 13 target: <= 1.5)")

    groups = PAPER_GROUPS_160M if L == 12 else [[i, i + 1] for i in range(0, L - 1, 2)] + ([[L - 1]] if L % 2 else [])
    if L % 2 == 0 and L != 12: groups = groups[:-1] + [[L - 2], [L - 1]]  # the last layer alone, as in the paper
    res["suites"] = su = bench_suites(acts, groups, s["m"], s["k"], rows_per_step, dev)
    del acts
    print(f"\n## 3. Suites: train_saes on {su['positions']:,} cached positions ({su['steps']} steps of {rows_per_step:,}), m {s['m']:,}, k {s['k']}\n")
    print(table([su], ["L", "n_group_saes", "per_layer_s", "group_s", "ratio", "ideal", "per_layer_sae_positions_per_s", "group_sae_positions_per_s"]))
    print(f"\nthe group suite trains {su['ratio']:.2f}x faster than the per-layer suite (the SAE count alone: {su['ideal']:.2f}x); "
          f"suite SAE-positions/s / single step's: {su['per_layer_sae_positions_per_s'] / r['positions_per_s']:.2f} (issue 13 target: >= 0.9)")

    if not a.skip_slice:
        del model
        if dev.type == "cuda": torch.cuda.empty_cache()
        print(f"\n## 4. A slice of PYTHIA_160M (about {a.slice_seconds:.0f} s)\n")
        res["slice"] = sl = run_slice(a, s, work, model_name, corpus, stand_in, res, dev)
        print(table([sl], ["distance_tokens", "n_tokens", "eval_tokens", "steps", "est_step_s", "measured_step_s", "train_s", "total_s"]))
        full = PYTHIA_160M.data
        print(f"\nmeasured / estimated step: {sl['measured_step_s'] / sl['est_step_s']:.2f}; the full preset's training "
              f"({PYTHIA_160M.train.n_tokens:,} tokens per SAE, {full.batch_size} x {full.ctx_len} per step) at this step time: {sl['full_preset_train_hours']:.1f} h"
              + (" (--cpu-smoke: the tiny step, not the preset's)" if a.cpu_smoke else ""))
        print((work/"slice"/"report.md").read_text() if (work/"slice"/"report.md").exists() else "")
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
