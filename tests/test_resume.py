"A training run killed with SIGKILL resumes from its last checkpoint and ends with the weights of an uninterrupted run."
import os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest
import torch

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
    return subprocess.Popen([sys.executable, "-c", TRAIN, str(cache.path), str(out)] + (["resume"] if resume else []))

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
