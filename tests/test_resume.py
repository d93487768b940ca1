"A training run killed with SIGKILL resumes from its last checkpoint and ends with the weights of an uninterrupted run."
import os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]  # the subprocesses import this copy of the package, not another installed one

TRAIN = textwrap.dedent("""
    import sys, time
    from layergroup_sae.activations import ActivationCache
    from layergroup_sae.training import TrainConfig, train_saes
    cache = ActivationCache(sys.argv[1])
    cfg = TrainConfig(n_tokens=4096, batch_tokens=256, n_latents=1152, k=16, checkpoint_every=1, keep_checkpoints=3, norm_tokens=512)
    train_saes(None, cache, [[0], [0, 1]], cfg, out_dir=sys.argv[2], resume=len(sys.argv) > 3,
               callback=lambda step, rows: time.sleep(0.25), progress=False)
""")

@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    from layergroup_sae.models import load_model
    from layergroup_sae.data import token_batches
    from layergroup_sae.activations import build_cache
    model = load_model(device="cpu")
    path = tmp_path_factory.mktemp("acts")
    return build_cache(path, model, token_batches(None, model.tokenizer, ctx_len=64, batch_size=8), n_tokens=4096, layers=[0, 1])

def _run(cache, out, resume=False):
    return subprocess.Popen([sys.executable, "-c", TRAIN, str(cache.path), str(out)] + (["resume"] if resume else []),
                            env={**os.environ, "PYTHONPATH": str(ROOT)})

def test_sigkill_then_resume_equals_uninterrupted(cache, tmp_path):
    from layergroup_sae.training import load_run
    full = tmp_path/"full"; killed = tmp_path/"killed"
    assert _run(cache, full).wait(timeout=300) == 0
    p = _run(cache, killed)
    deadline = time.time() + 240
    while time.time() < deadline and not (killed/"checkpoints"/"step_00000005").exists(): time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL
    done = sorted(q.name for q in (killed/"checkpoints").glob("step_*"))
    assert done and not (killed/"run.json").exists(), "the run must have been killed before finishing"
    assert _run(cache, killed, resume=True).wait(timeout=300) == 0
    a, b = load_run(full), load_run(killed)
    assert sorted(a.saes) == sorted(b.saes) == ["L0", "L0-1"]
    for name in a.saes:
        for k, v in a.saes[name].state_dict().items():
            assert torch.equal(v, b.saes[name].state_dict()[k]), f"{name}.{k} differs after resume"
    assert len(a.metrics) == len(b.metrics)

def test_damaged_checkpoint_is_named_and_latest_good_falls_back(cache, tmp_path):
    "A checkpoint whose state file was cut short (its `complete` marker kept) is a ValueError naming the file; resume='latest-good' continues from the older one."
    import warnings
    from layergroup_sae.activations import ActivationCache
    from layergroup_sae.training import TrainConfig, train_saes
    acts = ActivationCache(cache.path)
    cfg = TrainConfig(n_tokens=2048, batch_tokens=256, n_latents=1152, k=16, checkpoint_every=1, keep_checkpoints=3, norm_tokens=512)
    run = lambda out, **kw: train_saes(None, acts, [[0], [0, 1]], cfg, out_dir=out, progress=False, **kw)
    full = run(tmp_path/"full")
    run(tmp_path/"cut", max_steps=5)
    newest = tmp_path/"cut"/"checkpoints"/"step_00000005"
    assert (newest/"complete").exists()
    raw = (newest/"state.pt").read_bytes()
    (newest/"state.pt").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ValueError, match=r"step_00000005/state\.pt"):
        run(tmp_path/"cut", resume=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        done = run(tmp_path/"cut", resume="latest-good")
    assert any("step_00000005" in str(x.message) for x in w)
    for name in full:
        for k, v in full[name].state_dict().items():
            assert torch.equal(v, done[name].state_dict()[k]), f"{name}.{k} differs after resuming from the older checkpoint"
    assert full.metrics.equals(done.metrics)
