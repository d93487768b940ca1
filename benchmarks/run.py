"""Training-speed benchmarks of layergroup_sae on real activations of the embedded model (SmolLM2-135M).

One process, one set of cached activations, every variant timed in the same run: the machine is noisy, so the
numbers to read are the medians and, above all, the ratios between variants measured side by side.

    python benchmarks/run.py [--tokens 4096] [--reps 5] [--quick]

Sections:
1. one SAE training step (forward, backward, Adam): this package vs a plain dense PyTorch TopK step vs SAELens' TopK step;
2. sparse (embedding_bag) vs dense decode, forward + backward, at n_latents = 16 x d_model, k = 32 and 128;
3. the step against its floor, the dense encoder forward matmul alone;
4. wall-clock of training the per-layer suite (every layer) vs the Ĝ group suite (Ĝ groups + the last layer) on the same tokens;
5. all-layer capture with the early stop (no final norm, no unembedding) vs the full forward.
"""
from __future__ import annotations
import argparse, json, os, statistics, sys, time
from pathlib import Path
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from layergroup_sae.models import load_model
from layergroup_sae.data import token_batches
from layergroup_sae.activations import ActivationSpec, capture, capture_batch
from layergroup_sae.distances import layer_distances
from layergroup_sae.grouping import group_sweep, choose_n_groups
from layergroup_sae.sae import TopKSAE, sparse_decode, to_dense
from layergroup_sae.training import TrainConfig, make_optimizer, train_step, train_saes


def timeit(fn, reps: int, warmup: int = 1) -> float:
    "Median wall-clock seconds of `fn()` over `reps` runs, after `warmup` untimed runs."
    for _ in range(warmup): fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def table(rows: list[dict], cols: list[str]) -> str:
    "A GitHub-markdown table."
    fmt = lambda v: f"{v:,.3f}" if isinstance(v, float) else str(v)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(out)


# --- reference steps -----------------------------------------------------------------------------------------

class DenseTopK(torch.nn.Module):
    "The plain PyTorch TopK SAE: dense latents, dense decode, autograd everywhere (what a first implementation does)."
    def __init__(self, sae: TopKSAE):
        super().__init__()
        self.W_enc = torch.nn.Parameter(sae.W_enc.detach().clone()); self.b_enc = torch.nn.Parameter(sae.b_enc.detach().clone())
        self.W_dec = torch.nn.Parameter(sae.W_dec.detach().clone()); self.b_dec = torch.nn.Parameter(sae.b_dec.detach().clone())
        self.k = sae.cfg.k

    def forward(self, x):  # x: [N, d], already normalised
        pre = F.linear(x - self.b_dec, self.W_enc, self.b_enc)  # [N, m]
        top = pre.topk(self.k, dim=-1)
        z = torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())  # [N, m] dense latents
        x_hat = z @ self.W_dec + self.b_dec
        return (x - x_hat).pow(2).sum() / (x - x.mean(0)).pow(2).sum()


def dense_step(model: DenseTopK, opt, x):
    loss = model(x); opt.zero_grad(set_to_none=True); loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    with torch.no_grad(): model.W_dec /= model.W_dec.norm(dim=1, keepdim=True)


def saelens_step_fn(d: int, m: int, k: int, x):
    "SAELens' TopK training step as its SAETrainer runs it: training_forward_pass, firing counters, backward, clip, Adam."
    from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.saes.sae import TrainStepInput
    sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=d, d_sae=m, k=k, device="cpu", dtype="float32"))
    opt = torch.optim.Adam(sae.parameters(), lr=1e-4)
    since = torch.zeros(m)
    def step():
        out = sae.training_forward_pass(TrainStepInput(sae_in=x, coefficients={}, dead_neuron_mask=since > 1e7,
                                                       n_training_steps=0, is_logging_step=False))
        with torch.no_grad():
            fired = out.feature_acts.bool().float().sum(-2).bool(); since.add_(1); since[fired] = 0
        out.loss.backward(); torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0); opt.step(); opt.zero_grad()
    return step


# --- sections ------------------------------------------------------------------------------------------------

def bench_step(x: torch.Tensor, layer: torch.Tensor, d: int, reps: int) -> tuple[list[dict], dict]:
    "Sections 1 and 3: one step of each trainer, and the floor, at m = 16 d, k = 32."
    m, k = 16 * d, 32
    N = x.shape[0]
    torch.manual_seed(0)
    sae = TopKSAE(d, m, k, layers=[int(layer[0])]); sae.set_scales({int(layer[0]): 1.0})
    opt = make_optimizer(sae, TrainConfig(n_latents=m, k=k))
    ours = timeit(lambda: train_step(sae, opt, x, layer, lr=1e-4), reps)
    dense = DenseTopK(TopKSAE(d, m, k)); dopt = torch.optim.Adam(dense.parameters(), lr=1e-4)
    naive = timeit(lambda: dense_step(dense, dopt, x), reps)
    try: lens = timeit(saelens_step_fn(d, m, k, x), reps)
    except Exception as e: print(f"SAELens step unavailable: {e}"); lens = float("nan")
    W = sae.W_enc.detach().clone(); b = sae.b_enc.detach().clone()
    floor = timeit(lambda: F.linear(x, W, b), reps)
    rows = [dict(step="layergroup_sae (embedding_bag decode, k-sparse encoder backward)", seconds=ours, tokens_per_s=N / ours, vs_ours=1.0),
            dict(step="plain PyTorch TopK (dense decode, autograd)", seconds=naive, tokens_per_s=N / naive, vs_ours=naive / ours),
            dict(step="SAELens 6.54 TopKTrainingSAE", seconds=lens, tokens_per_s=N / lens, vs_ours=lens / ours),
            dict(step="floor: dense encoder forward matmul alone", seconds=floor, tokens_per_s=N / floor, vs_ours=floor / ours)]
    return rows, dict(m=m, k=k, N=N, ours=ours, naive=naive, saelens=lens, floor=floor)


def bench_decode(d: int, N: int, reps: int) -> list[dict]:
    "Section 2: decode forward + backward (grads of the activations and of W_dec), sparse vs dense."
    m = 16 * d
    rows = []
    for k in (32, 128):
        g = torch.Generator().manual_seed(k)
        W = torch.randn(m, d, generator=g).requires_grad_()
        idx = torch.stack([torch.randperm(m, generator=g)[:k] for _ in range(N)])  # [N, k] distinct latents per row
        acts = torch.rand(N, k, generator=g).requires_grad_()
        def sparse():
            sparse_decode(acts, idx, W).pow(2).sum().backward(); W.grad = acts.grad = None
        def dense():
            (to_dense(acts, idx, m) @ W).pow(2).sum().backward(); W.grad = acts.grad = None
        ts, td = timeit(sparse, reps), timeit(dense, reps)
        rows.append(dict(k=k, n_latents=m, k_over_m=f"1/{m // k}", sparse_s=ts, dense_s=td, speedup=td / ts))
    return rows


def bench_suites(model, acts: torch.Tensor, layers: list[int], reps_tokens: int) -> dict:
    "Section 4: the per-layer suite vs the Ĝ group suite, trained by `train_saes` on the same cached activations."
    D = layer_distances(model, token_batches(None, model.tokenizer, 128, 8), n_tokens=8192)  # the demo's budget
    sweep = group_sweep(D, methods=["agglomerative"])
    G = choose_n_groups(sweep, 0.2, "agglomerative")
    groups = [list(g) for g in sweep.set_index("n_groups").groups[G]] + [[layers[-1]]]
    per_layer = [[l] for l in layers]
    cfg = TrainConfig(n_tokens=reps_tokens, n_latents=4 * model.cfg.d_model, k=32, batch_tokens=2048, norm_tokens=2048, seed=0)
    out = {}
    for name, gs in [("per-layer", per_layer), ("group", groups)]:
        t = time.perf_counter()
        train_saes(None, [acts[:, i:i + 2048] for i in range(0, reps_tokens, 2048)], gs, cfg, layers=layers, progress=False)
        out[name] = time.perf_counter() - t
    return dict(L=len(layers), G_hat=G, groups=" ".join(f"{g[0]}-{g[-1]}" if len(g) > 1 else str(g[0]) for g in groups),
                per_layer_s=out["per-layer"], group_s=out["group"], ratio=out["per-layer"] / out["group"], ideal=len(layers) / (G + 1))


def bench_capture(model, tokens: torch.Tensor, reps: int) -> list[dict]:
    "All-layer capture with the early stop (no final norm, no unembedding) vs the same capture with the full forward."
    spec = ActivationSpec()  # every layer, resid_post
    rows = []
    for name, logits in [("early stop", False), ("full forward", True)]:
        sec = timeit(lambda: capture_batch(model, tokens, spec, logits=logits), reps)
        rows.append(dict(capture=name, seconds=sec, tokens_per_s=tokens.numel() / sec))
    for r in rows: r["speedup"] = r["tokens_per_s"] / rows[1]["tokens_per_s"]
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", type=int, default=4096, help="activation rows per training step")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions per variant (the median is reported)")
    p.add_argument("--suite-tokens", type=int, default=8192, help="positions each SAE of the suite benchmark trains on")
    p.add_argument("--quick", action="store_true", help="fewer repetitions and tokens (a smoke run)")
    p.add_argument("--json", type=str, default="", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    if a.quick: a.tokens, a.reps, a.suite_tokens = 1024, 2, 2048
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    model = load_model(device="cpu")
    d, L = model.cfg.d_model, model.cfg.n_layers
    layers = list(range(L))
    # real activations: all layers of the same tokens, BOS dropped; one forward per batch
    rows_needed = max(a.tokens, a.suite_tokens)
    chunks, n = [], 0
    for tok in token_batches(None, model.tokenizer, ctx_len=129, batch_size=8):
        chunks.append(capture(model, tok, layers, exclude_bos=True)); n += chunks[-1].shape[1]
        if n >= rows_needed: break
    acts = torch.cat(chunks, 1)[:, :rows_needed]  # [L, rows, d]
    l = 15
    x = acts[l, :a.tokens] / acts[l, :a.tokens].norm(dim=1).mean()  # normalised as the trainer does
    layer = torch.full((a.tokens,), l)

    step_rows, s = bench_step(x, layer, d, a.reps)
    print(f"\n## 1, 3. One training step: layer {l} activations, {s['N']} tokens, d_model {d}, n_latents {s['m']}, k {s['k']} (median of {a.reps})\n")
    print(table(step_rows, ["step", "seconds", "tokens_per_s", "vs_ours"]))
    print(f"\nvs SAELens: {s['saelens'] / s['ours']:.2f}x faster (target >= 1.5x); vs the plain step: {s['naive'] / s['ours']:.2f}x (target >= 2.5x); "
          f"step / dense encoder matmul: {s['ours'] / s['floor']:.2f} (target <= 3)")

    dec = bench_decode(d, a.tokens, a.reps)
    print(f"\n## 2. Decode, forward + backward, {a.tokens} tokens (median of {a.reps})\n")
    print(table(dec, ["k", "n_latents", "k_over_m", "sparse_s", "dense_s", "speedup"]))

    cap_tokens = next(token_batches(None, model.tokenizer, ctx_len=128, batch_size=8))
    cap = bench_capture(model, cap_tokens, a.reps)
    print(f"\n## 5. Capture of all {L} layers, {cap_tokens.shape[0]} x {cap_tokens.shape[1]} tokens per forward (median of {a.reps})\n")
    print(table(cap, ["capture", "seconds", "tokens_per_s", "speedup"]))

    su = bench_suites(model, acts, layers, a.suite_tokens)
    print(f"\n## 4. Suites on the same {a.suite_tokens} cached positions (n_latents {4 * d}, k 32)\n")
    print(table([su], ["L", "G_hat", "groups", "per_layer_s", "group_s", "ratio", "ideal"]))
    print(f"\nthe group suite trains {su['ratio']:.2f}x faster than the per-layer suite; the SAE count alone would give {su['ideal']:.2f}x")
    if a.json:
        Path(a.json).write_text(json.dumps(dict(step=step_rows, decode=dec, capture=cap, suites=su), indent=1, default=float))


if __name__ == "__main__":
    main()
