"""Training-speed benchmarks of layergroup_sae on real activations of the embedded model (SmolLM2-135M).

One process, one set of cached activations, every variant timed in the same run: the machine is noisy, so the
numbers to read are the medians and, above all, the ratios between variants measured side by side.

    python benchmarks/run.py [--tokens 4096] [--reps 5] [--quick]

Sections:
1. one SAE training step (forward, backward, Adam): this package vs a plain dense PyTorch TopK step vs SAELens' TopK step;
2. sparse (embedding_bag) vs dense decode, forward + backward, at n_latents = 16 x d_model, k = 32 and 128;
3. the step against its floor, the dense encoder forward matmul alone;
4. wall-clock of training the per-layer suite (every layer) vs the Ĝ group suite (Ĝ groups + the last layer) on the same tokens;
5. all-layer capture with the early stop (no final norm, no unembedding) vs the full forward;
6. one suite step (every layer's SAE + 8 group SAEs over layers 0..L-2, one `_train_batch`) vs as many single steps, and the single step vs the
   dense encoder matmul, at n_latents 1152 and 9216, interleaved round by round.
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
from layergroup_sae.training import TrainConfig, make_optimizer, train_step, train_saes, _run_spec, _setup, _train_batch, _clip_grad_norm
from layergroup_sae.comm import Comm


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


def suite_groups_for(L: int, n_groups: int = 8) -> list[list[int]]:
    "Every layer's own SAE, then `n_groups` contiguous groups of near-equal size over layers 0..L-2 and the last layer's SAE (the Ĝ + 1 of a suite)."
    cuts = [round(i * (L - 1) / n_groups) for i in range(n_groups + 1)]
    return [[l] for l in range(L)] + [list(range(a, b)) for a, b in zip(cuts, cuts[1:])]


def bench_suite_step(acts: torch.Tensor, m: int, reps: int, k: int = 32) -> dict:
    "Section 6: one step of the whole suite vs one single-SAE step vs the dense encoder matmul, timed in alternation, round by round."
    L, N, d = acts.shape
    groups = suite_groups_for(L)
    cfg = TrainConfig(n_tokens=N * (reps + 10), n_latents=m, k=k, seed=0, log_every=1)
    scales = {l: 1 / float(acts[l].norm(dim=1).mean()) for l in range(L)}
    comm, have = Comm(), list(range(L))
    run, *_ = _setup(None, [acts], groups, cfg, _run_spec(None, [acts], None, have), have, scales, None, comm)
    run.total_steps = reps + 10
    def suite():
        _train_batch(run, acts, have, N, 0, cfg, comm); run.step += 1
    sae = TopKSAE(d, m, k, layers=[15]); sae.set_scales({15: scales[15]})
    opt, lid, x = make_optimizer(sae, cfg), torch.full((N,), 15), acts[15]
    W, b, xs = sae.W_enc.detach().clone(), sae.b_enc.detach().clone(), x * scales[15]
    fns = dict(suite=suite, single=lambda: train_step(sae, opt, x, lid, 1e-4), matmul=lambda: F.linear(xs, W, b))
    ts = {n: [] for n in fns}
    for f in fns.values(): f()  # warm-up
    for _ in range(reps):
        for n, f in fns.items():
            t = time.perf_counter(); f(); ts[n].append(time.perf_counter() - t)
    med = {n: statistics.median(v) for n, v in ts.items()}
    n_saes = len(groups)
    return dict(n_latents=m, n_saes=n_saes, suite_s=med["suite"], single_s=med["single"], matmul_s=med["matmul"],
                suite_sae_pos_per_s=n_saes * N / med["suite"], single_pos_per_s=N / med["single"],
                suite_over_single=(n_saes * N / med["suite"]) / (N / med["single"]), single_over_matmul=med["single"] / med["matmul"])


def profile_step(x: torch.Tensor, layer: int, m: int, reps: int, k: int = 32) -> list[dict]:
    "Where one `train_step` spends its time, phase by phase (the phases of `train_step`, run by hand), next to the dense encoder matmul and TopK alone."
    N, d = x.shape
    torch.manual_seed(0)
    sae = TopKSAE(d, m, k, layers=[layer]); sae.set_scales({layer: 1 / float(x.norm(dim=1).mean())})
    opt, lid = make_optimizer(sae, TrainConfig(n_latents=m, k=k)), torch.full((N,), layer)
    xs = x * sae.layer_scale(layer)
    W, b = sae.W_enc.detach().clone(), sae.b_enc.detach().clone()
    out = {}
    phases = {  # each phase runs on the state the previous one left, as in train_step
        "forward (encoder matmul, TopK, sparse decode, losses)": lambda: out.update(o=sae(x, layer=lid)),
        "backward (sparse gradients of W_enc, W_dec, biases)": lambda: (opt.zero_grad(set_to_none=True), out["o"].loss.backward()),
        "remove gradient parallel to decoder rows": sae.remove_gradient_parallel_to_decoder_directions,
        "gradient clipping": lambda: _clip_grad_norm(list(sae.parameters()), 1.0),
        "Adam (fused)": opt.step,
        "decoder rows to unit norm": sae.set_decoder_norm_to_unit_norm,
        "dead-latent counters": lambda: sae.update_dead(out["o"].top_indices, top_acts=out["o"].top_acts),
    }
    ref = {"dense encoder matmul alone": lambda: F.linear(xs, W, b), "TopK alone (on the matmul's output)": lambda: out["pre"].topk(k, dim=-1, sorted=False)}
    ts = {n: [] for n in [*phases, *ref]}
    for r in range(reps + 1):
        for n, f in phases.items():
            t = time.perf_counter(); f(); ts[n].append(time.perf_counter() - t)
        out["pre"] = F.linear(xs, W, b)
        for n, f in ref.items():
            t = time.perf_counter(); f(); ts[n].append(time.perf_counter() - t)
    med = {n: statistics.median(v[1:]) for n, v in ts.items()}
    step = sum(med[n] for n in phases)
    mm = med["dense encoder matmul alone"]
    return [dict(n_latents=m, phase=n, ms=1000 * med[n], of_step=med[n] / step if n in phases else float("nan"), of_matmul=med[n] / mm)
            for n in ts] + [dict(n_latents=m, phase="step (sum of the phases)", ms=1000 * step, of_step=1.0, of_matmul=step / mm)]


def report_suite_step(acts: torch.Tensor, l: int, a) -> tuple[list[dict], list[dict]]:
    "Section 6, printed: the suite step vs the single step vs the matmul at 2x and 16x d_model latents, then the single step's phases."
    d = acts.shape[-1]
    ss = [bench_suite_step(acts[:, :a.tokens], m, a.suite_reps) for m in (2 * d, 16 * d)]
    print(f"\n## 6. Suite step ({ss[0]['n_saes']} SAEs: {acts.shape[0]} per-layer + {ss[0]['n_saes'] - acts.shape[0]} groups; the last layer's "
          f"group SAE is its per-layer one) vs single step vs dense encoder matmul, "
          f"{a.tokens} positions, k 32 (median of {a.suite_reps} interleaved rounds)\n")
    print(table(ss, ["n_latents", "n_saes", "suite_s", "single_s", "matmul_s", "suite_sae_pos_per_s", "single_pos_per_s",
                     "suite_over_single", "single_over_matmul"]))
    print("\ntargets: suite_over_single >= 0.9; single_over_matmul <= 1.5")
    prof = [r for m in (2 * d, 16 * d) for r in profile_step(acts[l, :a.tokens], l, m, max(a.reps, 3))]
    print(f"\nWhere one step's time goes (layer {l}, {a.tokens} positions, k 32; medians of {max(a.reps, 3)})\n")
    print(table(prof, ["n_latents", "phase", "ms", "of_step", "of_matmul"]))
    return ss, prof


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", type=int, default=4096, help="activation rows per training step")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions per variant (the median is reported)")
    p.add_argument("--suite-tokens", type=int, default=8192, help="positions each SAE of the suite benchmark trains on")
    p.add_argument("--suite-reps", type=int, default=3, help="rounds of section 6 (a suite step is ~40 SAE steps)")
    p.add_argument("--only-suite-step", action="store_true", help="run section 6 alone")
    p.add_argument("--quick", action="store_true", help="fewer repetitions and tokens (a smoke run)")
    p.add_argument("--json", type=str, default="", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    if a.quick: a.tokens, a.reps, a.suite_tokens, a.suite_reps = 1024, 2, 2048, 1
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

    ss, prof = report_suite_step(acts, l, a)
    if a.only_suite_step:
        if a.json: Path(a.json).write_text(json.dumps(dict(suite_step=ss, step_profile=prof), indent=1, default=float))
        return

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
        Path(a.json).write_text(json.dumps(dict(step=step_rows, decode=dec, capture=cap, suites=su, suite_step=ss, step_profile=prof), indent=1, default=float))


if __name__ == "__main__":
    main()
