"""Bad inputs get clear errors (DESIGN.md "Reliability"): one table of bad calls through the public API, each with the exception it
must raise and the words its message must hold (the argument's name and what is accepted, or the file), checked by one test.

A row is (id, a zero-argument callable making the bad call, the exception type, substrings of the message). Add a row for
every bad input found; its substrings say what a user needs to fix the call, not merely what the code prints today. A bad
input whose error is not yet clear (no argument name, a raw library exception, a misleading text) is fixed in its notebook
first, and then gets its row here."""
import functools, json, shutil, tempfile
from pathlib import Path
import numpy as np
import pytest
import torch

from layergroup_sae import activations as A, data, distances, evaluation, experiment, features, grouping, models, training, widgets
from layergroup_sae.activations import ActivationCache, ActivationSpec
from layergroup_sae.sae import SAEConfig, TopKSAE
from layergroup_sae.training import TrainConfig

# ---------------------------------------------------------------------------------------------------------------------------
# Small things the bad calls need, made once per module on first use (the model only for the rows that run it).

_ROOT: list[Path] = []  # the module's temporary folder, set by the `_env` fixture

@pytest.fixture(scope="module", autouse=True)
def _env(tmp_path_factory):
    "Offline, as `make test` runs (the Makefile exports HF_HUB_OFFLINE=1), with a temporary folder for the rows' files."
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        _ROOT[:] = [tmp_path_factory.mktemp("bad_inputs")]
        yield

def tmp(name: str) -> Path:
    "A new empty folder for one row."
    p = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_ROOT[0])); return p

@functools.cache
def model():
    return models.load_model(device="cpu")

TEXTS = [f"Document {i}. " + " ".join(f"The {w} fox number {i} jumps over the lazy dog near the river bank." for w in
                                      ("quick", "slow", "red", "brown", "old", "young", "small", "large")) for i in range(40)]

def tokens(batch: int = 2, ctx: int = 16) -> torch.Tensor:
    "One real token batch [batch, ctx], BOS first."
    return next(data.token_batches(TEXTS, model().tokenizer, ctx_len=ctx, batch_size=batch))

@functools.cache
def cache() -> ActivationCache:
    "A complete 64-token cache of layers 0 and 1 in two shards."
    return A.build_cache(tmp("cache"), model(), data.token_batches(TEXTS, model().tokenizer, ctx_len=17, batch_size=2),
                         n_tokens=64, layers=[0, 1], shard_tokens=32)

def cache_copy(name: str) -> Path:
    "A copy of `cache()` to damage."
    dst = tmp(name)/"cache"; shutil.copytree(cache().path, dst); return dst

def acts(n_batches: int = 4, n_layers: int = 2, n: int = 64, d: int = 16, nan: bool = False) -> list[torch.Tensor]:
    "In-memory activation batches [n_layers, n, d]."
    g = torch.Generator().manual_seed(0)
    out = [torch.randn(n_layers, n, d, generator=g) for _ in range(n_batches)]
    if nan: out[1][0, 3, 5] = float("nan")
    return out

TINY = dict(n_tokens=512, n_latents=32, k=4, norm_tokens=64, device="cpu", checkpoint_every=1, keep_checkpoints=2)

def train(groups=([0], [0, 1]), batches=None, out=None, **kw):
    return training.train_saes(None, acts() if batches is None else batches, [list(g) for g in groups],
                               TrainConfig(**TINY), out_dir=out, progress=False, **kw)

@functools.cache
def unfinished_run() -> Path:
    "The out_dir of a tiny run stopped after 2 steps: checkpoints, no run.json."
    out = tmp("run")/"run"; train(out=out, max_steps=2); return out

@functools.cache
def finished_run() -> Path:
    "The out_dir of a finished tiny run (run.json written)."
    out = tmp("finished")/"run"; train(out=out); return out

def run_copy(name: str) -> Path:
    dst = tmp(name)/"run"; shutil.copytree(unfinished_run(), dst); return dst

def finished_copy(name: str) -> Path:
    dst = tmp(name)/"run"; shutil.copytree(finished_run(), dst); return dst

def other_k(out: Path):
    "Continue the tiny run in `out` with k=8 instead of 4."
    return training.train_saes(None, acts(), [[0], [0, 1]], TrainConfig(**{**TINY, "k": 8}), out_dir=out, resume=True, progress=False)

def corrupt_checkpoint() -> Path:
    "A copy of the unfinished run whose newest checkpoint's state file is cut in half (its `complete` marker kept)."
    out = run_copy("corrupt")
    f = sorted((out/"checkpoints").glob("step_*"))[-1]/"state.pt"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    return out

def saved_sae(name: str = "sae", d: int = 16, **kw) -> Path:
    return TopKSAE(d, 32, 4, [0], **kw).save(tmp(name)/"sae")

def corrupt_sae() -> Path:
    p = saved_sae("corrupt_sae")
    f = p/"sae.safetensors"; f.write_bytes(f.read_bytes()[:100])
    return p

def model_sae(layers=(0,)) -> TopKSAE:
    "An SAE of the model's width at `layers`."
    return TopKSAE(model().cfg.d_model, 64, 4, list(layers))

def cli(*argv: str):
    "A call of the `layergroup-sae` command (the default model is the one loaded here, not loaded again)."
    def call():
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(experiment, "load_model", lambda name=None, device=None: model() if name is None else models.load_model(name, device))
            experiment.main(list(argv))
    return call

def write(path: Path, text: str) -> Path:
    path.write_text(text); return path

def _unlink(f: Path) -> Path:
    f.unlink(); return f

def _truncate(f: Path) -> Path:
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 3]); return f

def _incomplete(path: Path) -> Path:
    m = json.loads((path/"manifest.json").read_text()); m["complete"] = False
    (path/"manifest.json").write_text(json.dumps(m)); return path

def D4() -> np.ndarray:
    "A valid 4-layer distance matrix."
    return grouping.PYTHIA_1B_DISTANCES[:4, :4].copy()

def sweep4():
    return grouping.group_sweep(D4(), methods=["agglomerative"])

def _asym():
    M = D4(); M[0, 1] += 0.1; return M

def _nan():
    M = D4(); M[0, 1] = M[1, 0] = float("nan"); return M

# ---------------------------------------------------------------------------------------------------------------------------
# The table: (id, bad call, exception type, substrings the message must contain)

BAD = [
    # models
    ("load_model/unknown-hub-name-offline", lambda: models.load_model("no-such-org/no-such-model-xyz", device="cpu"), ConnectionError,
     ["'no-such-org/no-such-model-xyz'", "hub cannot be reached", "load_model()", "local checkpoint folder"]),
    ("load_model/missing-local-folder", lambda: models.load_model("/nonexistent_dir/model", device="cpu"), ValueError,
     ["'/nonexistent_dir/model'", "no such local folder", "hub name", "checkpoint folder"]),
    ("load_model/folder-without-config", lambda: models.load_model(str(tmp("empty_model")), device="cpu"), ValueError,
     ["holds no config.json", "checkpoint folder"]),
    ("load_model/empty-name", lambda: models.load_model("", device="cpu"), ValueError,
     ["model", "non-empty name or path", "None for the embedded default"]),
    ("load_model/device-unknown", lambda: models.load_model(device="tpu"), ValueError, ["device", "cpu", "cuda", "mps", "'tpu'"]),

    # data
    ("token_batches/empty-list", lambda: data.token_batches([], model().tokenizer, 16, 2), ValueError,
     ["source", "no documents", "the source is empty"]),
    ("token_batches/tokenizer-None", lambda: data.token_batches(TEXTS, None, 16, 2), ValueError,
     ["tokenizer", "Hugging Face tokenizer", "model.tokenizer", "None"]),
    ("token_batches/empty-file", lambda: data.token_batches(str(write(tmp("empty_file")/"empty.txt", "")), model().tokenizer, 16, 2),
     ValueError, ["empty.txt", "no documents"]),
    ("token_batches/missing-file", lambda: data.token_batches("/nonexistent_dir/corpus.txt", model().tokenizer, 16, 2), ValueError,
     ["source=", "/nonexistent_dir/corpus.txt", "no such file or folder"]),
    ("token_batches/source-of-another-type", lambda: data.token_batches(123, model().tokenizer, 16, 2), ValueError,
     ["source", "a list of strings", "a path", "Hugging Face dataset", "int"]),
    ("token_batches/ctx_len-1", lambda: data.token_batches(TEXTS, model().tokenizer, 1, 2), ValueError, ["ctx_len", ">= 2", "1"]),
    ("token_batches/batch_size-0", lambda: data.token_batches(TEXTS, model().tokenizer, 16, 0), ValueError, ["batch_size", ">= 1", "0"]),
    ("token_batches/split-unknown", lambda: data.token_batches(TEXTS, model().tokenizer, 16, 2, split="test"), ValueError,
     ["split", "'train'", "'heldout'", "'test'"]),
    ("token_batches/heldout_frac-0", lambda: data.token_batches(TEXTS, model().tokenizer, 16, 2, heldout_frac=0.0), ValueError,
     ["heldout_frac", "(0, 1)"]),
    ("token_batches/heldout_frac-1.5", lambda: data.token_batches(TEXTS, model().tokenizer, 16, 2, heldout_frac=1.5), ValueError,
     ["heldout_frac", "(0, 1)", "1.5"]),
    ("token_batches/ctx_len-over-max_ctx", lambda: data.token_batches(TEXTS, model().tokenizer, 64, 2, max_ctx=32), ValueError,
     ["ctx_len=64", "max_ctx=32"]),
    ("token_batches/too-few-tokens", lambda: data.token_batches(TEXTS[:1], model().tokenizer, 512, 64), ValueError,
     ["fewer than one batch", "64 x 512"]),

    # activations
    ("capture/layer-out-of-range", lambda: A.capture(model(), tokens(), layers=[30]), ValueError, ["layers", "0..29", "[30]"]),
    ("capture/tokens-longer-than-n_ctx", lambda: A.capture(model(), torch.zeros(1, model().cfg.n_ctx + 1, dtype=torch.long), layers=[0]),
     ValueError, ["tokens", "n_ctx=8192", "ctx_len"]),
    ("capture/tokens-1d", lambda: A.capture(model(), torch.tensor([1, 2, 3]), layers=[0]), ValueError, ["tokens", "[batch, pos]", "(3,)"]),
    ("capture/tokens-a-list", lambda: A.capture(model(), [[1, 2, 3]], layers=[0]), ValueError,
     ["tokens", "[batch, pos] tensor of token ids", "list"]),
    ("capture/tokens-float", lambda: A.capture(model(), torch.randn(2, 5), layers=[0]), ValueError,
     ["tokens", "integer token ids", "torch.float32"]),
    ("capture_batch/tokens-float", lambda: A.capture_batch(model(), torch.randn(2, 5), ActivationSpec(layers=(0,))), ValueError,
     ["tokens", "integer token ids", "torch.float32"]),
    ("capture/token-id-outside-vocabulary", lambda: A.capture(model(), torch.tensor([[1, 10**6]]), layers=[0]), ValueError,
     ["tokens", "outside the model's vocabulary", "0..49151", "1000000"]),
    ("capture_batch/mask-wrong-shape", lambda: A.capture_batch(model(), (tokens(), torch.ones(2, 5)), ActivationSpec(layers=(0,))),
     ValueError, ["attention_mask", "(2, 16)", "(2, 5)"]),
    ("capture_batch/batch-not-tokens", lambda: A.capture_batch(model(), "some text", ActivationSpec(layers=(0,))), ValueError,
     ["batches must yield", "token tensors", "attention_mask", "str"]),
    ("capture/dtype-unknown", lambda: A.capture(model(), tokens(), layers=[0], dtype=torch.int64), ValueError, ["dtype", "torch.float32", "torch.int64"]),
    ("ActivationSpec/hook-unknown", lambda: ActivationSpec(hook="resid_mid"), ValueError, ["hook", "resid_post", "mlp_out", "'resid_mid'"]),
    ("ActivationSpec/layers-repeated", lambda: ActivationSpec(layers=(0, 1, 1)), ValueError, ["layers", "must not repeat", "[0, 1, 1]"]),
    ("ActivationSpec/layers-negative", lambda: ActivationSpec(layers=(-1, 0)), ValueError, ["layers", ">= 0", "[-1, 0]"]),
    ("ActivationSpec/dtype-unknown", lambda: ActivationSpec(dtype="float64"), ValueError, ["dtype", "float32", "bfloat16", "'float64'"]),
    ("ActivationSpec/from_dict-unknown-field", lambda: ActivationSpec.from_dict({"hook": "resid_post", "layer": [0]}), ValueError,
     ["unknown ActivationSpec field", "'layer'", "layers"]),
    ("hook_name/hook-unknown", lambda: A.hook_name(0, "resid"), ValueError, ["hook", "resid_post", "'resid'"]),
    ("activation_stream/nan", lambda: list(A.activation_stream(acts(nan=True))), ValueError, ["NaN or inf", "batch 1"]),
    ("activation_stream/nan-names-the-layer", lambda: list(A.activation_stream(acts(nan=True), layers=[3, 7])), ValueError,
     ["NaN or inf", "batch 1", "layer(s) [3]"]),
    ("activation_stream/inf", lambda: list(A.activation_stream([torch.full((2, 4, 8), float("inf"))])), ValueError, ["NaN or inf", "batch 0"]),
    ("activation_stream/n_tokens-0", lambda: list(A.activation_stream(acts(), n_tokens=0)), ValueError, ["n_tokens", "positive", "0"]),
    ("activation_stream/model-without-batches", lambda: list(A.activation_stream(model())), ValueError, ["batches", "model"]),
    ("activation_stream/not-a-source", lambda: list(A.activation_stream(42)), ValueError, ["source", "ActivationCache", "int"]),
    ("activation_stream/layers-wrong-length", lambda: list(A.activation_stream(acts(), layers=[0, 1, 2])), ValueError,
     ["layers", "3 layers", "hold 2"]),
    ("norm_factors/empty", lambda: A.norm_factors([], 64), ValueError, ["acts is empty"]),
    ("build_cache/dtype-unknown", lambda: A.build_cache(tmp("bc_dtype"), model(), [tokens()], 16, dtype="float64"), ValueError,
     ["dtype", "float16", "'float64'"]),
    ("build_cache/n_tokens-0", lambda: A.build_cache(tmp("bc_n0"), model(), [tokens()], 0), ValueError, ["n_tokens", "positive", "0"]),
    ("build_cache/empty-batches", lambda: A.build_cache(tmp("bc_empty"), model(), [], 16, layers=[0]), ValueError, ["batches is empty"]),
    ("build_cache/path-is-a-file", lambda: A.build_cache(write(tmp("bc_file")/"f", "x"), model(), [tokens()], 16), ValueError,
     ["path", "is a file", "build_cache needs a folder"]),
    ("build_cache/other-settings", lambda: A.build_cache(cache().path, model(), [tokens()], 64, layers=[0, 2]), ValueError,
     ["other settings", "layers", "[0, 1]", "[0, 2]"]),
    ("ActivationCache/missing-folder", lambda: ActivationCache("/nonexistent_dir/cache"), FileNotFoundError,
     ["/nonexistent_dir/cache", "manifest.json missing"]),
    ("ActivationCache/corrupted-manifest", lambda: ActivationCache(write(cache_copy("bad_manifest")/"manifest.json", "{not json").parent),
     ValueError, ["corrupted activation cache", "manifest.json", "not valid JSON"]),
    ("ActivationCache/manifest-lacks-fields", lambda: ActivationCache(write(cache_copy("lacks")/"manifest.json", '{"complete": true}').parent),
     ValueError, ["corrupted activation cache", "manifest.json lacks", "'layers'", "delete the folder and rebuild"]),
    ("ActivationCache/truncated-shard", lambda: ActivationCache(_truncate(cache_copy("bad_shard")/"shard_00001.npy").parent), ValueError,
     ["corrupted activation cache shard", "shard_00001.npy"]),
    ("ActivationCache/deleted-shard", lambda: ActivationCache(_unlink(cache_copy("no_shard")/"shard_00000.npy").parent), ValueError,
     ["corrupted activation cache shard", "shard_00000.npy"]),
    ("ActivationCache/incomplete", lambda: ActivationCache(_incomplete(cache_copy("incomplete"))), ValueError,
     ["incomplete", "build_cache(..., resume=True)"]),
    ("activation_stream/cache-of-another-hook", lambda: list(A.activation_stream(cache(), spec=ActivationSpec(hook="mlp_out"))), ValueError,
     ["activation cache at", "'hook'", "resid_post", "mlp_out"]),
    ("activation_stream/cache-missing-layer", lambda: list(A.activation_stream(cache(), spec=ActivationSpec(layers=(0, 5)))), ValueError,
     ["holds layers [0, 1]", "[5]"]),

    # distances
    ("layer_distances_from_acts/metric-unknown", lambda: distances.layer_distances_from_acts(acts(), 64, metric="cosine"), ValueError,
     ["metric", "'angular'", "'cka'", "'cosine'"]),
    ("layer_distances_from_acts/center-unknown", lambda: distances.layer_distances_from_acts(acts(), 64, center="median"), ValueError,
     ["center", "'none'", "'mean'", "'median'"]),
    ("layer_distances_from_acts/cka-with-center-mean", lambda: distances.layer_distances_from_acts(acts(), 64, metric="cka", center="mean"),
     ValueError, ["center='mean'", "angular", "center='none'"]),
    ("layer_distances/cka-with-center-mean", lambda: distances.layer_distances(model(), [tokens()], metric="cka", center="mean"), ValueError,
     ["center='mean'", "angular", "center='none'"]),
    ("layer_distances_from_acts/center-mean-without-means", lambda: distances.layer_distances_from_acts(acts(), 64, center="mean"), ValueError,
     ["center='mean'", "means"]),
    ("layer_distances_from_acts/n_tokens-0", lambda: distances.layer_distances_from_acts(acts(), 0), ValueError, ["n_tokens", "positive", "0"]),
    ("layer_distances_from_acts/nan", lambda: distances.layer_distances_from_acts(acts(nan=True), 256), ValueError, ["NaN or inf"]),
    ("layer_distances_from_acts/empty", lambda: distances.layer_distances_from_acts([], 64), ValueError, ["acts is empty"]),
    ("LayerDistances.load/corrupted", lambda: distances.LayerDistances.load(write(tmp("ld")/"d.json", '{"D": [[0')), ValueError,
     ["corrupted LayerDistances file", "d.json"]),
    ("LayerDistances.load/not-distances", lambda: distances.LayerDistances.load(write(tmp("ld2")/"d.json", '{"a": 1}')), ValueError,
     ["d.json", "not a LayerDistances file", "'D'", "'layers'"]),
    ("LayerDistances.load/unknown-field", lambda: distances.LayerDistances.load(write(tmp("ld3")/"d.json", json.dumps(
        {"D": D4().tolist(), "layers": [0, 1, 2, 3], "metric": "angular", "foo": 1}))), ValueError,
     ["d.json", "not a LayerDistances file", "unknown field(s) ['foo']", "accepted", "'metric'"]),

    # grouping
    ("LayerDistances.load/missing-file", lambda: distances.LayerDistances.load("/nonexistent_dir/d.json"), FileNotFoundError,
     ["/nonexistent_dir/d.json"]),
    ("validate_groups/non-contiguous", lambda: grouping.validate_groups([[0, 2], [1, 3]], range(4)), ValueError,
     ["groups", "contiguous", "[0, 2]"]),
    ("validate_groups/overlapping", lambda: grouping.validate_groups([[0, 1], [1, 2, 3]], range(4)), ValueError,
     ["groups overlap", "layer 1"]),
    ("validate_groups/out-of-range", lambda: grouping.validate_groups([[0, 1], [2, 3, 4]], range(4)), ValueError,
     ["groups", "layer 4 out of range", "0..3"]),
    ("validate_groups/empty-group", lambda: grouping.validate_groups([[0, 1], []], range(4)), ValueError,
     ["groups", "non-empty lists of ints", "[]"]),
    ("validate_groups/no-groups", lambda: grouping.validate_groups([], range(4)), ValueError, ["groups", "non-empty list"]),
    ("validate_groups/not-covering", lambda: grouping.validate_groups([[0, 1], [2]], range(4)), ValueError,
     ["groups skip layer(s) [3]", "every layer of 0..3"]),
    ("validate_groups/unordered", lambda: grouping.validate_groups([[2, 3], [0, 1]], range(4)), ValueError, ["groups", "ordered by layer"]),
    ("amad/non-contiguous", lambda: grouping.amad(D4(), [[0, 2], [1, 3]]), ValueError, ["groups", "contiguous", "[0, 2]"]),
    ("amad/out-of-range", lambda: grouping.amad(D4(), [[0, 1], [2, 3, 4]]), ValueError, ["layer 4 out of range", "0..3"]),
    ("amad/non-square", lambda: grouping.amad(np.zeros((3, 4)), [[0, 1, 2]]), ValueError, ["D", "square", "(3, 4)"]),
    ("amad/asymmetric", lambda: grouping.amad(_asym(), [[0, 1], [2, 3]]), ValueError, ["D", "symmetric", "max |D - D.T|"]),
    ("amad/nan", lambda: grouping.amad(_nan(), [[0, 1], [2, 3]]), ValueError, ["D", "finite", "NaN/inf"]),
    ("amad/nonzero-diagonal", lambda: grouping.amad(D4() + np.eye(4), [[0, 1], [2, 3]]), ValueError, ["D", "zero diagonal"]),
    ("amad/not-a-matrix", lambda: grouping.amad([[0, 1], [1, 0]], [[0, 1]]), ValueError, ["D", "numpy array", "torch tensor", "list"]),
    ("choose_n_groups/threshold-0", lambda: grouping.choose_n_groups(sweep4(), 0), ValueError, ["threshold", "(0, 1)", "got 0"]),
    ("choose_n_groups/threshold-1", lambda: grouping.choose_n_groups(sweep4(), 1), ValueError, ["threshold", "(0, 1)", "got 1"]),
    ("choose_n_groups/threshold-1.5", lambda: grouping.choose_n_groups(sweep4(), 1.5), ValueError, ["threshold", "(0, 1)", "1.5"]),
    ("choose_n_groups/threshold-numpy-1.5", lambda: grouping.choose_n_groups(sweep4(), np.float32(1.5)), ValueError,
     ["threshold", "(0, 1)", "1.5"]),
    ("choose_n_groups/threshold-nan", lambda: grouping.choose_n_groups(sweep4(), float("nan")), ValueError, ["threshold", "(0, 1)", "nan"]),
    ("choose_n_groups/method-not-in-sweep", lambda: grouping.choose_n_groups(sweep4(), 0.2, method="optimal"), ValueError,
     ["method", "['agglomerative']", "'optimal'"]),
    ("choose_n_groups/not-a-sweep", lambda: grouping.choose_n_groups(D4(), 0.2), ValueError, ["sweep", "group_sweep"]),
    ("contiguous_groups/n_groups-0", lambda: grouping.contiguous_groups(D4(), 0), ValueError, ["n_groups", "1..4", "got 0"]),
    ("contiguous_groups/n_groups-over-L", lambda: grouping.contiguous_groups(D4(), 5), ValueError, ["n_groups", "1..4", "got 5"]),
    ("contiguous_groups/method-unknown", lambda: grouping.contiguous_groups(D4(), 2, method="greedy"), ValueError,
     ["method", "'optimal'", "'agglomerative'", "'greedy'"]),
    ("contiguous_groups/objective-unknown", lambda: grouping.contiguous_groups(D4(), 2, method="optimal", objective="mean"), ValueError,
     ["objective", "'amad'", "'weighted_amad'", "'max'", "'mean'"]),
    ("contiguous_groups/objective-with-agglomerative", lambda: grouping.contiguous_groups(D4(), 2, objective="max"), ValueError,
     ["objective", "method='optimal'", "agglomerative"]),
    ("group_sweep/methods-unknown", lambda: grouping.group_sweep(D4(), methods=["greedy"]), ValueError, ["methods", "'optimal'", "'greedy'"]),
    ("parse_group_name/bad-name", lambda: grouping.parse_group_name("L5-3"), ValueError, ["name", "'L3-5'", "'L5-3'"]),

    # sae
    ("SAEConfig/k-over-n_latents", lambda: SAEConfig(d_in=16, n_latents=8, k=16), ValueError, ["n_latents", ">= k", "16", "8"]),
    ("SAEConfig/k-0", lambda: SAEConfig(d_in=16, k=0), ValueError, ["k", ">= 1", "got 0"]),
    ("SAEConfig/hook-unknown", lambda: SAEConfig(d_in=16, hook="resid_mid"), ValueError, ["hook", "resid_post", "'resid_mid'"]),
    ("SAEConfig/layers-unordered", lambda: SAEConfig(d_in=16, layers=[2, 1]), ValueError, ["layers", "increasing", "[2, 1]"]),
    ("SAEConfig/from_dict-unknown-field", lambda: SAEConfig.from_dict({"d_in": 16, "width": 4}), ValueError,
     ["unknown SAEConfig field", "'width'", "n_latents"]),
    ("TopKSAE/unknown-argument", lambda: TopKSAE(16, 32, 4, [0], hook_point="resid_post"), ValueError,
     ["unknown TopKSAE argument", "hook_point", "hook"]),
    ("TopKSAE.load/d_model-mismatch", lambda: TopKSAE.load(saved_sae("d16"), d_in=576), ValueError,
     ["d_in mismatch", "d_in=16", "expected 576", "sae"]),
    ("TopKSAE.load/hook-mismatch", lambda: TopKSAE.load(saved_sae("mlp", hook="mlp_out"), hook="resid_post"), ValueError,
     ["hook mismatch", "hook=mlp_out", "expected resid_post"]),
    ("TopKSAE.load/corrupted-weights", lambda: TopKSAE.load(corrupt_sae()), ValueError, ["sae.safetensors", "checksum", "corrupted"]),
    ("TopKSAE.load/corrupted-weights-unverified", lambda: TopKSAE.load(corrupt_sae(), verify=False), ValueError,
     ["sae.safetensors", "corrupted or truncated"]),
    ("TopKSAE.load/corrupted-config", lambda: TopKSAE.load(write(saved_sae("badcfg")/"cfg.json", "{oops").parent), ValueError,
     ["cfg.json", "not valid JSON"]),
    ("TopKSAE.load/missing-folder", lambda: TopKSAE.load("/nonexistent_dir/sae"), FileNotFoundError, ["no SAE folder", "/nonexistent_dir/sae"]),
    ("TopKSAE.load/folder-without-weights", lambda: TopKSAE.load(tmp("nosae")), FileNotFoundError, ["cfg.json", "TopKSAE.save"]),
    ("export_saelens/template-of-another-hook", lambda: TopKSAE(16, 32, 4, [0], hook="mlp_out").export_saelens(
        tmp("export"), hook_template="blocks.{layer}.hook_resid_post"), ValueError,
     ["hook_template", "resid_post", "mlp_out", "hook_template=None"]),
    ("export_saelens/template-without-layer", lambda: TopKSAE(16, 32, 4, [0]).export_saelens(tmp("export2"), hook_template="blocks.0.hook_resid_post"),
     ValueError, ["hook_template", "{layer}"]),
    ("export_saelens/layer-not-a-member", lambda: TopKSAE(16, 32, 4, [0, 1]).export_saelens(tmp("export3"), layers=[2]), ValueError,
     ["layer 2", "not a member", "[0, 1]"]),
    ("encode/layer-not-a-member", lambda: TopKSAE(16, 32, 4, [0, 1]).encode(torch.randn(3, 16), layer=5), ValueError, ["layer", "5", "[0, 1]"]),

    ("encode/width-mismatch", lambda: TopKSAE(16, 32, 4, [0]).encode(torch.randn(3, 8), layer=0), ValueError, ["d_in=16", "(3, 8)"]),

    # training
    ("TrainConfig/lr-negative", lambda: TrainConfig(lr=-1e-3), ValueError, ["lr", "positive", "-0.001"]),
    ("TrainConfig/mix-unknown", lambda: TrainConfig(mix="mean"), ValueError, ["mix", "'random'", "'all'", "'mean'"]),
    ("TrainConfig/schedule-unknown", lambda: TrainConfig(schedule="linear"), ValueError, ["schedule", "'constant'", "'cosine'", "'linear'"]),
    ("TrainConfig/k-over-n_latents", lambda: TrainConfig(n_latents=8, k=16), ValueError, ["n_latents", ">= k", "8"]),
    ("TrainConfig/n_tokens-0", lambda: TrainConfig(n_tokens=0), ValueError, ["n_tokens", "positive int", "0"]),
    ("TrainConfig/betas-one-number", lambda: TrainConfig(betas=0.9), ValueError, ["betas", "two numbers in [0, 1)", "0.9"]),
    ("TrainConfig/lr-string", lambda: TrainConfig(lr="1e-3"), ValueError, ["lr", "positive number or None", "'1e-3'", "a string"]),
    ("TrainConfig/grad_clip-string", lambda: TrainConfig(grad_clip="1"), ValueError, ["grad_clip", "positive number or None", "'1'"]),
    ("TrainConfig/device-unknown", lambda: TrainConfig(device="tpu"), ValueError, ["device", "cpu", "cuda", "mps", "'tpu'"]),
    ("TrainConfig/eps-negative", lambda: TrainConfig(eps=-1), ValueError, ["eps", ">= 0", "-1"]),
    ("TrainConfig/aux_alpha-negative", lambda: TrainConfig(aux_alpha=-1), ValueError, ["aux_alpha", ">= 0", "-1"]),
    ("TrainConfig/dead_tokens-0", lambda: TrainConfig(dead_tokens=0), ValueError, ["dead_tokens", "positive int", "0"]),
    ("TrainConfig/k_aux-0", lambda: TrainConfig(k_aux=0), ValueError, ["k_aux", "positive int or None", "0"]),
    ("TrainConfig/from_dict-unknown-field", lambda: TrainConfig.from_dict({"learning_rate": 1e-3}), ValueError,
     ["unknown TrainConfig field", "'learning_rate'", "'lr'"]),
    ("TrainConfig/from_dict-exclude_bos", lambda: TrainConfig.from_dict({"exclude_bos": False}), ValueError,
     ["exclude_bos", "ActivationSpec(exclude_bos"]),
    ("train_saes/group-listed-twice", lambda: train(groups=[[0], [0]]), ValueError, ["group [0]", "listed twice"]),
    ("train_saes/no-groups", lambda: train(groups=[]), ValueError, ["groups", "non-empty list"]),
    ("train_saes/non-contiguous-group", lambda: train(groups=[[0], [0, 2]], batches=acts(n_layers=3)), ValueError,
     ["groups", "contiguous", "[0, 2]"]),
    ("train_saes/unordered-group", lambda: train(groups=[[1, 0]]), ValueError, ["groups", "increasing order", "[1, 0]"]),
    ("train_saes/negative-layer", lambda: train(groups=[[-1, 0]]), ValueError, ["groups", "layer -1 out of range", "non-negative"]),
    ("train_saes/cfg-a-dict", lambda: training.train_saes(None, acts(), [[0]], {"k": 4}), ValueError,
     ["cfg must be a TrainConfig", "TrainConfig.from_dict", "dict"]),
    ("train_saes/group-beyond-the-model", lambda: training.train_saes(model(), [tokens()], [[40]], TrainConfig(**TINY), progress=False),
     ValueError, ["groups has layer 40 out of range", "30-layer model", "0..29"]),
    ("train_saes/resume-checkpoint-of-other-settings", lambda: other_k(run_copy("other_ck")), ValueError,
     ["checkpoint", "differing (checkpoint, requested)", "'k': (4, 8)", "choose another out_dir"]),
    ("train_saes/resume-finished-run-of-other-settings", lambda: other_k(finished_copy("other_done")), ValueError,
     ["finished run", "differing (finished run, requested)", "'k': (4, 8)", "choose another out_dir"]),
    ("train_saes/resume-unknown", lambda: train(resume="yes"), ValueError, ["resume", "latest-good", "'yes'"]),
    ("train_saes/max_steps-0", lambda: train(max_steps=0), ValueError, ["max_steps", "positive", "0"]),
    ("train_saes/layer-missing-from-acts", lambda: train(groups=[[0], [2]]), ValueError, ["holds layers [0, 1]", "[2]"]),
    ("train_saes/nan-activations", lambda: train(batches=acts(nan=True), scales={0: 1.0, 1: 1.0}), ValueError, ["NaN or inf", "batch 1"]),
    ("train_saes/nan-activations-norm-estimate", lambda: train(batches=acts(nan=True)), ValueError, ["NaN or inf"]),
    ("train_saes/empty-batches", lambda: train(batches=[]), ValueError, ["batches is empty"]),
    ("train_saes/scales-missing-layer", lambda: train(scales={0: 1.0}), ValueError, ["scales", "layers [1]"]),
    ("train_saes/corrupted-checkpoint", lambda: train(out=corrupt_checkpoint(), resume=True), ValueError,
     ["state.pt", "unreadable", "resume='latest-good'"]),
    ("train_saes/unfinished-run-without-resume", lambda: train(out=run_copy("noresume")), ValueError,
     ["checkpoints of an unfinished run", "resume=True", "out_dir"]),
    ("train_saes/finished-run-without-resume", lambda: train(out=finished_run()), ValueError,
     ["holds a finished run", "resume=True", "out_dir"]),
    ("load_run/missing", lambda: training.load_run(tmp("norun")), FileNotFoundError, ["no finished run", "run.json"]),
    ("load_run/damaged-run-json", lambda: training.load_run(_truncate(finished_copy("bad_runjson")/"run.json").parent), ValueError,
     ["run.json", "not valid JSON", "corrupted or half-written", "delete the folder or rerun"]),
    ("load_run/empty-metrics-csv", lambda: training.load_run(write(finished_copy("bad_metrics")/"metrics.csv", "").parent), ValueError,
     ["metrics.csv", "unreadable", "delete the folder or rerun"]),

    # evaluation
    ("evaluate/no-saes", lambda: evaluation.evaluate(model(), {}, [tokens()], progress=False), ValueError, ["saes is empty", "name -> SAE"]),
    ("evaluate/tokens-under-3-positions", lambda: evaluation.evaluate(model(), {"L0": model_sae()}, [tokens()[:, :2]], progress=False),
     ValueError, ["token batches", "at least 3 positions", "(2, 2)"]),
    ("evaluate/empty-batches", lambda: evaluation.evaluate(model(), {"L0": model_sae()}, [], progress=False), ValueError, ["batches is empty"]),
    ("evaluate/layers-without-sae", lambda: evaluation.evaluate(model(), {"L0": model_sae()}, [tokens()], layers=[3], progress=False),
     ValueError, ["no SAE has a member layer", "layers=[3]"]),
    ("evaluate/tokens-float", lambda: evaluation.evaluate(model(), {"L0": model_sae()}, [torch.randn(2, 5)], progress=False), ValueError,
     ["tokens", "integer token ids", "torch.float32"]),
    ("evaluate/sae-width-not-the-model's", lambda: evaluation.evaluate(model(), {"L0": TopKSAE(16, 32, 4, [0])}, [tokens()], progress=False),
     ValueError, ["saes['L0']", "d_in=16", "d_model is 576"]),
    ("evaluate/sae-layer-beyond-the-model", lambda: evaluation.evaluate(model(), {"L40": model_sae([40])}, [tokens()], progress=False),
     ValueError, ["saes['L40']", "serves layer 40", "0..29"]),
    ("evaluate/splice_all-sae-not-in-saes", lambda: evaluation.evaluate(model(), {"L0": model_sae()}, [tokens()], splice_all={"G=1": {0: "L0-1"}},
                                                                       progress=False), ValueError,
     ["splice_all['G=1']", "layer 0", "'L0-1'", "not in saes", "['L0']"]),
    ("evaluate/splice_all-sae-not-serving-the-layer", lambda: evaluation.evaluate(
        model(), {"L0": model_sae(), "L1": model_sae([1])}, [tokens()], splice_all={"G=1": {0: "L1"}}, progress=False), ValueError,
     ["splice_all['G=1']", "layer 0", "'L1'", "whose layers [1] do not include 0"]),
    ("evaluate/splice_bos-not-bool", lambda: evaluation.evaluate(model(), {"L0": model_sae()}, [tokens()], splice_bos="yes", progress=False),
     ValueError, ["splice_bos", "True or False", "'yes'"]),

    # widgets
    ("explore_groups/threshold-1.5", lambda: widgets.explore_groups(D4(), threshold=1.5), ValueError, ["threshold", "(0, 1)", "1.5"]),
    ("explore_groups/method-unknown", lambda: widgets.explore_groups(D4(), method="greedy"), ValueError, ["method", "agglomerative", "'greedy'"]),
    ("TrainingDashboard/every-0", lambda: widgets.TrainingDashboard(every=0), ValueError, ["every", "positive int", "0"]),

    # experiment

    # features
    ("nearest_latents/latent-out-of-range", lambda: features.nearest_latents(TopKSAE(16, 32, 4, [0]), 99), ValueError,
     ["latent", "0..31", "99"]),
    ("feature_stats/not-an-sae", lambda: features.feature_stats(model(), "L0", [tokens()]), ValueError, ["sae", "TopKSAE", "str"]),
    ("ExperimentConfig/unknown-field", lambda: experiment.ExperimentConfig.from_dict({"modle": "x"}), experiment.ConfigError,
     ["unknown ExperimentConfig field", "'modle'", "data"]),
    ("ExperimentConfig/unknown-section-field", lambda: experiment.ExperimentConfig.from_dict({"grouping": {"treshold": 0.2}}),
     experiment.ConfigError, ["grouping.treshold", "threshold"]),
    ("ExperimentConfig/threshold-0", lambda: experiment.ExperimentConfig.from_dict({"grouping": {"threshold": 0}}), experiment.ConfigError,
     ["grouping.threshold", "(0, 1)", "got 0"]),
    ("ExperimentConfig/threshold-1", lambda: experiment.ExperimentConfig.from_dict({"grouping": {"threshold": 1.0}}), experiment.ConfigError,
     ["grouping.threshold", "(0, 1)", "1.0"]),
    ("ExperimentConfig/threshold-1.5", lambda: experiment.ExperimentConfig.from_dict({"grouping": {"threshold": 1.5}}), experiment.ConfigError,
     ["grouping.threshold", "(0, 1)", "1.5"]),
    ("ExperimentConfig/ctx_len-2", lambda: experiment.ExperimentConfig.from_dict({"data": {"ctx_len": 2}}), experiment.ConfigError,
     ["data.ctx_len", ">= 3", "2"]),
    ("ExperimentConfig/cache_dtype-unknown", lambda: experiment.ExperimentConfig.from_dict({"cache_dtype": "int8"}), experiment.ConfigError,
     ["cache_dtype", "float16", "'int8'"]),
    ("ExperimentConfig/seeds-repeated", lambda: experiment.ExperimentConfig.from_dict({"seeds": [0, 0]}), experiment.ConfigError,
     ["seeds", "distinct", "[0, 0]"]),
    ("ExperimentConfig/train-seed", lambda: experiment.ExperimentConfig.from_dict({"train": {"seed": 3}}), experiment.ConfigError,
     ["train.seed", "seeds"]),
    ("ExperimentConfig/hook-unknown", lambda: experiment.ExperimentConfig.from_dict({"activations": {"hook": "resid"}}), experiment.ConfigError,
     ["activations.hook", "resid_post", "'resid'"]),
    ("check_experiment/layer-out-of-range", lambda: experiment.check_experiment(
        experiment.ExperimentConfig.from_dict({"activations": {"layers": [0, 40]}}), model=model(), write=False), experiment.ConfigError,
     ["activations.layers", "0..29", "[40]"]),
    ("check_experiment/groupings-over-L", lambda: experiment.check_experiment(
        experiment.ExperimentConfig.from_dict({"activations": {"layers": [0, 1, 2]}, "grouping": {"groupings": [5]}}), model=model(), write=False),
     experiment.ConfigError, ["grouping.groupings", "1..2", "[5]"]),
    ("check_experiment/out-is-a-file", lambda: experiment.check_experiment(
        experiment.ExperimentConfig(out=str(write(tmp("outfile")/"f", "x"))), model=model()), experiment.ConfigError, ["out", "not a folder"]),
    # the command line: status 2 and one line on stderr naming the flag (the row's words are checked against that line)
    ("cli/threshold-1.5", cli("distances", "--grouping.threshold", "1.5"), SystemExit, ["--grouping.threshold", "(0, 1)", "1.5"]),
    ("cli/threshold-not-a-number", cli("distances", "--grouping.threshold", "high"), SystemExit, ["--grouping.threshold", "float", "'high'"]),
    ("cli/metric-unknown", cli("distances", "--grouping.metric", "cosine"), SystemExit, ["--grouping.metric", "'angular'", "'cka'", "'cosine'"]),
    ("cli/unknown-flag", cli("distances", "--grouping.treshold", "0.2"), SystemExit, ["unrecognized arguments", "--grouping.treshold"]),
    ("cli/unknown-command", cli("frobnicate"), SystemExit, ["'frobnicate'", "'run'", "'demo'", "'distances'"]),
    ("cli/model-missing-folder", cli("distances", "--data.model", "/nonexistent_dir"), SystemExit,
     ["--data.model", "'/nonexistent_dir'", "no such local folder", "hub name"]),
    ("cli/model-unknown-offline", cli("distances", "--data.model", "no-such-org/no-such-model-xyz"), SystemExit,
     ["--data.model", "'no-such-org/no-such-model-xyz'", "hub cannot be reached", "local checkpoint folder"]),
    ("cli/layers-out-of-range", cli("distances", "--activations.layers", "[0, 40]"), SystemExit, ["--activations.layers", "0..29", "[40]"]),
    ("cli/groupings-over-L", cli("distances", "--grouping.groupings", "[40]"), SystemExit, ["--grouping.groupings", "1..29", "[40]"]),
    ("cli/ctx_len-1", cli("distances", "--data.ctx_len", "1"), SystemExit, ["--data.ctx_len", ">= 3", "1"]),
    ("cli/k-0", cli("distances", "--train.k", "0"), SystemExit, ["--train.k", "positive int", "0"]),
    ("cli/lr-negative", cli("distances", "--train.lr", "-1"), SystemExit, ["--train.lr", "positive number", "-1"]),
    ("cli/betas-one-number", cli("distances", "--train.betas", "0.9"), SystemExit, ["--train.betas", "tuple[float, float]", "'0.9'"]),
    ("cli/splice_bos-not-bool", cli("distances", "--eval.splice_bos", "maybe"), SystemExit, ["--eval.splice_bos", "bool", "'maybe'"]),
    ("cli/seeds-repeated", cli("distances", "--seeds", "[0, 0]"), SystemExit, ["--seeds", "distinct", "[0, 0]"]),
    ("cli/device-unknown", cli("distances", "--device", "tpu"), SystemExit, ["--device", "cpu", "cuda", "'tpu'"]),
    ("cli/hook-unknown", cli("distances", "--activations.hook", "resid"), SystemExit, ["--activations.hook", "resid_post", "'resid'"]),
    ("cli/out-under-a-file", lambda: cli("run", "--out", str(write(tmp("out_file")/"f", "x")/"sub"))(), SystemExit,
     ["--out", "cannot create", "is a file"]),
    ("cli/config-missing-file", cli("distances", "--config", "/nonexistent_dir/exp.yaml"), SystemExit,
     ["--config", "/nonexistent_dir/exp.yaml", "does not exist"]),
    ("cli/config-unknown-field", lambda: cli("distances", "--config", str(write(tmp("cfg")/"exp.yaml", "grouping:\n  treshold: 0.2\n")))(),
     SystemExit, ["--config", "unknown field", "grouping.treshold"]),
    ("cli/config-not-yaml", lambda: cli("distances", "--config", str(write(tmp("cfg2")/"exp.yaml", "grouping: [oops\n")))(), SystemExit,
     ["--config", "not valid YAML or JSON"]),
]


@pytest.mark.parametrize("call, exc, words", [pytest.param(c, e, w, id=i) for i, c, e, w in BAD])
def test_bad_input_is_a_clear_error(call, exc, words, capsys):
    with pytest.raises(exc) as info: call()
    if isinstance(info.value, SystemExit):  # the command line: one line on stderr and status 2, no traceback
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert info.value.code == 2, f"exit status {info.value.code}: {err}"
        assert len(lines) == 1 and lines[0].startswith("layergroup-sae: error: "), f"not one error line: {err}"
        msg = lines[0]
    else: msg = str(info.value)
    missing = [w for w in words if w not in msg]
    assert not missing, f"message lacks {missing}: {msg}"
