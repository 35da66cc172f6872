"""Training deep networks on MNIST: eight optimisers, vanishing gradients, CPU against GPU.

Sections; each run is named ``optimizers:NETWORK:METHOD``, ``gradients:INIT`` or
``devices:DEVICE``, and ``--only`` keeps the runs whose names contain one of its words
(``--only adam,gradients``):

* ``optimizers``: the DBN's supervised network, as ``DBN(pretrain=False)`` builds it
  (sigmoid hidden units, Glorot-uniform weights, a softmax output), in two shapes,
  784-500-500-10 and 784-500-500-2000-10, trained from the same initial weights by eight
  methods on the same epoch budget, each at a constant step size: full-batch gradient
  descent (one step an epoch), SGD with batch 1 (on a subset of the training images,
  because 20,000 one-image steps an epoch take too long on a CPU), mini-batch SGD, momentum
  0.9, Nesterov momentum 0.9, AdaGrad, RMSprop and Adam (batch 100). Each method's step
  size is picked from a grid of five (the same size for every method, checked by
  ``check_learning_rate_grid``) by the lowest final validation error, averaged over the
  seeds; a run whose loss diverged counts as 100% error. The table gives, at that step
  size, the test error with its 95% bootstrap interval, the training seconds per epoch
  (validation not counted) and the epochs to 5% and to 2% validation error; the pictures
  plot the validation error against epochs and against training time, with 95% bands.
* ``gradients``: vanishing gradients, measured. A 784-500-500-500-500-10 sigmoid network
  from Glorot-uniform weights, after greedy RBM pretraining (``DBN``) and after greedy
  denoising-autoencoder pretraining (``StackedAutoencoder``), beside the same depth with
  ReLU units and He initialisation: the norm of each layer's weight gradient at the start
  of training (the mean cross-entropy of 2,000 training images, before any step), then the
  test error after the same fine-tuning budget (SGD, momentum 0.9, batch 100, step size
  picked on the validation images from a grid of five).
* ``devices``: training seconds per epoch of 784-500-500-10 (SGD, batch 100) with
  ``device="cpu"`` and with ``device="auto"``, which picks the GPU when there is one. On a
  machine without a GPU the table says so, and the "auto" run goes through the same code
  on the CPU.

Budgets. The full mode is sized to finish in about 40 minutes on a 2-core CPU machine:
the first 20,000 training images and 10 epochs for 784-500-500-10 (batch 1 on the first
2,000), the first 10,000 and 5 epochs for 784-500-500-2000-10 (batch 1 on 1,000), the first
5,000 validation images for the curves and the choice of step size, all 10,000 test images
for the final errors; 10,000 training images for the gradient section (2 pretraining
epochs a layer, 5 fine-tuning epochs). With these subsets the networks stop short of
their full-MNIST errors, and 2% validation error may not be reached in the budget: the
table then says so. Seeds 0, 1, 2 (initial weights and shuffling; the subsets are fixed).

Cores: the optimiser and gradient runs use one core (one torch thread) each and run side
by side, so their seconds per epoch are one-thread times measured beside another run; the
device runs ask for every core and run alone.

    python -m benchmarks.training                  # the full tables (about 40 minutes on 2 cores)
    python -m benchmarks.training --only gradients # one section (finished runs stay in the store)
    python -m benchmarks.training --quick          # small subsets, a few epochs (minutes)
    python -m benchmarks.training --smoke          # tiny networks and subsets, seconds (the tests)
"""

from __future__ import annotations

import copy
import functools
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from benchmarks import common
from groundup.experiments import stats

RUN = "benchmarks.training:run"
SECTIONS = ("optimizers", "gradients", "devices")


@dataclass(frozen=True)
class Method:
    """One way of training: a torch.optim optimiser, its settings and the minibatch size
    (``None``: the whole training set, one step an epoch; 1: one image a step, on the
    configuration's ``n_online`` subset)."""

    label: str
    optimizer: str
    learning_rates: tuple[float, ...]
    batch_size: int | None = 100
    momentum: float = 0.0
    nesterov: bool = False


# Five step sizes each, a factor of 3 apart, around the values each method is known to
# like on a sigmoid network. A first full run with three each chose an end of the grid for
# most methods (on one network or the other), so each grid reaches one step further on
# that side. The table marks a choice still at a grid's edge.
METHODS: dict[str, Method] = {
    "gd": Method("full-batch gradient descent", "sgd", (0.3, 1.0, 3.0, 10.0, 30.0), batch_size=None),
    "sgd-1": Method("SGD, batch 1", "sgd", (0.003, 0.01, 0.03, 0.1, 0.3), batch_size=1),
    "sgd": Method("SGD, batch 100", "sgd", (0.1, 0.3, 1.0, 3.0, 10.0)),
    "momentum": Method("momentum 0.9", "sgd", (0.003, 0.01, 0.03, 0.1, 0.3), momentum=0.9),
    "nesterov": Method("Nesterov momentum 0.9", "sgd", (0.003, 0.01, 0.03, 0.1, 0.3), momentum=0.9, nesterov=True),
    "adagrad": Method("AdaGrad", "adagrad", (0.003, 0.01, 0.03, 0.1, 0.3)),
    "rmsprop": Method("RMSprop", "rmsprop", (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)),
    "adam": Method("Adam", "adam", (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)),
}

# The gradient section's starting points (a label each) and its fine-tuning.
INITS: dict[str, str] = {
    "random": "sigmoid, Glorot-uniform (random)",
    "rbm": "sigmoid, RBM-pretrained (DBN)",
    "autoencoder": "sigmoid, denoising-autoencoder-pretrained",
    "relu-he": "ReLU, He-normal (random)",
}
# Five steps: the ReLU network wants a small one, the sigmoid networks (pretrained or not)
# chose the top of a first grid that stopped at 0.3.
FINETUNE = dict(optimizer="sgd", momentum=0.9, batch_size=100, learning_rates=(0.01, 0.03, 0.1, 0.3, 1.0))
# Time per epoch on each device: one fixed setting, nothing to tune.
DEVICE_TRAINING = dict(optimizer="sgd", momentum=0.9, batch_size=100, learning_rate=0.03)
TARGETS = (0.05, 0.02)  # validation errors whose first epoch the table reports

CONFIGS: dict[str, dict[str, Any]] = {
    "full": dict(
        optimizers=[dict(hidden=(500, 500), n_train=20_000, n_online=2_000, epochs=10),
                    dict(hidden=(500, 500, 2000), n_train=10_000, n_online=1_000, epochs=5)],
        n_valid=5_000, n_test=None,
        gradients=dict(hidden=(500, 500, 500, 500), n_train=10_000, n_grad=2_000, pretrain_epochs=2, epochs=5),
        devices=dict(hidden=(500, 500), n_train=20_000, epochs=3)),
    "quick": dict(
        optimizers=[dict(hidden=(500, 500), n_train=3_000, n_online=300, epochs=3),
                    dict(hidden=(500, 500, 2000), n_train=1_000, n_online=100, epochs=2)],
        n_valid=2_000, n_test=2_000,
        gradients=dict(hidden=(500, 500, 500, 500), n_train=3_000, n_grad=1_000, pretrain_epochs=1, epochs=2),
        devices=dict(hidden=(500, 500), n_train=5_000, epochs=3)),
    "smoke": dict(
        optimizers=[dict(hidden=(32, 32), n_train=300, n_online=40, epochs=1)],
        n_valid=200, n_test=200,
        gradients=dict(hidden=(16, 16, 16, 16), n_train=300, n_grad=100, pretrain_epochs=1, epochs=1),
        devices=dict(hidden=(32, 32), n_train=300, epochs=2)),
}
SEEDS = {"full": (0, 1, 2), "quick": (0, 1), "smoke": (0, 1)}
N_PIXELS, N_CLASSES = 784, 10


def network_name(hidden: Sequence[int]) -> str:
    return "-".join(str(s) for s in (N_PIXELS, *hidden, N_CLASSES))


def check_grids(methods: dict[str, Method] = METHODS) -> int:
    """Every step-size grid is valid and all have the same size (a method with more
    candidates would get more chances on the validation split); returns the size."""
    from groundup.validation import check_learning_rate_grid

    sizes = {name: len(check_learning_rate_grid(m.learning_rates, name=f"METHODS[{name!r}].learning_rates"))
             for name, m in methods.items()}
    check_learning_rate_grid(FINETUNE["learning_rates"], name="FINETUNE['learning_rates']")
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every method needs a step-size grid of the same size; got {sizes}")
    return next(iter(sizes.values()))


def plan(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Every run setting of a configuration (one dict each, with its ``section`` and
    ``name``); the sweep crosses them with the seeds. A setting holds everything that
    decides its run, so a changed budget or method never reuses a stored record."""
    shared = dict(n_valid=cfg["n_valid"], n_test=cfg["n_test"])
    settings = []
    for net in cfg["optimizers"]:
        for key, method in METHODS.items():
            for lr in method.learning_rates:
                # the grid itself is left out: a run depends on its own step size only, so a
                # widened grid reuses the stored runs of the step sizes it already had
                fields = {k: v for k, v in asdict(method).items() if k != "learning_rates"}
                settings.append(dict(section="optimizers", name=f"optimizers:{network_name(net['hidden'])}:{key}",
                                     method=key, **fields, learning_rate=lr, **net, **shared))
    for init in INITS:
        settings.append(dict(section="gradients", name=f"gradients:{init}", init=init, **cfg["gradients"], **FINETUNE,
                             **shared))
    for device in ("cpu", "auto"):
        settings.append(dict(section="devices", name=f"devices:{device}", device=device, **cfg["devices"],
                             **DEVICE_TRAINING))
    for s in settings:
        s["hidden"] = list(s["hidden"])
        if "learning_rates" in s:
            s["learning_rates"] = list(s["learning_rates"])
    return settings


# -- data and networks -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def mnist() -> Any:
    """MNIST, read once per process (a worker runs many runs; reading takes seconds)."""
    from groundup.datasets import load_mnist

    ds = load_mnist()
    if ds.source == "digits":  # pragma: no cover - load_mnist raises rather than falling back here
        raise RuntimeError("MNIST not found")
    return ds


def split(setting: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The setting's (fixed) subsets as tensors: train, valid, test."""
    import torch

    ds = mnist()

    def pair(X: np.ndarray, y: np.ndarray, n: int | None) -> tuple[Any, Any]:
        n = len(X) if n is None else n
        return torch.from_numpy(np.ascontiguousarray(X[:n])), torch.from_numpy(y[:n].astype(np.int64))

    return {"train": pair(ds.X_train, ds.y_train, setting.get("n_train")),
            "valid": pair(ds.X_valid, ds.y_valid, setting.get("n_valid")),
            "test": pair(ds.X_test, ds.y_test, setting.get("n_test"))}


def classifier(weights: list[Any], biases: list[Any], activation: str, gen: Any) -> Any:
    """The hidden layers given, topped by a Glorot-uniform softmax layer (as the DBN adds)."""
    import torch

    from groundup.unsupervised._nets import DenseStack, glorot_weight

    device = weights[0].device
    weights = [*weights, glorot_weight(N_CLASSES, weights[-1].shape[0], gen, device)]
    biases = [*biases, torch.zeros(N_CLASSES, device=device)]
    return DenseStack(weights, biases, [activation] * (len(weights) - 1) + ["identity"])


def random_network(hidden: Sequence[int], gen: Any, activation: str = "sigmoid") -> Any:
    """``DBN(pretrain=False)``'s network (Glorot-uniform, zero biases), or with
    ``activation="relu"`` the same shape with He-normal hidden weights."""
    import torch

    from groundup.unsupervised._nets import glorot_weight, he_weight

    init = he_weight if activation == "relu" else glorot_weight
    dims = [N_PIXELS, *hidden]
    cpu = torch.device("cpu")
    return classifier([init(o, i, gen, cpu) for i, o in zip(dims[:-1], dims[1:])], [torch.zeros(o) for o in hidden],
                      activation, gen)


def error_rate(net: Any, X: Any, y: Any) -> float:
    import torch

    with torch.no_grad():
        wrong = sum(int((net(X[s:s + 4096]).argmax(1) != y[s:s + 4096]).sum()) for s in range(0, len(X), 4096))
    return wrong / len(X)


class ValidationCurve:
    """``on_epoch_end`` for :func:`train_classifier`: the validation error after each
    epoch (and before the first, at epoch 0) against epochs and training seconds. The
    clock stops while the validation images are scored, so the times are training's own."""

    def __init__(self, net: Any, X: Any, y: Any) -> None:
        self.net, self.X, self.y = net, X, y
        self.errors, self.seconds, self.losses = [error_rate(net, X, y)], [0.0], []
        self._start, self._scoring = time.perf_counter(), 0.0

    def start(self) -> None:
        self._start, self._scoring = time.perf_counter(), 0.0

    def __call__(self, epoch: int, loss: float) -> None:
        now = time.perf_counter()
        self.seconds.append(now - self._start - self._scoring)
        self.losses.append(loss)
        self.errors.append(error_rate(self.net, self.X, self.y))
        self._scoring += time.perf_counter() - now

    def as_dict(self) -> dict[str, list[float]]:
        return {"valid_curve": self.errors, "seconds": self.seconds, "train_loss": self.losses}


def train(net: Any, setting: dict[str, Any], lr: float, X: Any, y: Any, valid: tuple[Any, Any], seed: int, epochs: int,
          batch_size: int) -> tuple[ValidationCurve, bool]:
    """Train ``net`` in place with the setting's optimiser at step size ``lr``; returns
    its validation curve and whether the loss diverged (training stops there)."""
    import torch

    from groundup.torch_utils import make_optimizer
    from groundup.unsupervised._nets import train_classifier

    optimizer = make_optimizer(net.parameters(), setting["optimizer"], learning_rate=lr,
                               momentum=setting.get("momentum", 0.0), nesterov=setting.get("nesterov", False))
    curve = ValidationCurve(net, *valid)
    curve.start()
    try:
        train_classifier(net, optimizer, X, y, epochs=epochs, batch_size=batch_size,
                         generator=torch.Generator().manual_seed(seed), on_epoch_end=curve, name=setting["name"])
    except FloatingPointError:
        return curve, True
    return curve, False


# -- the runs ----------------------------------------------------------------------------------------
def run_optimizer(setting: dict[str, Any], seed: int) -> dict[str, Any]:
    """One method at one step size: validation curve, final errors, seconds per epoch."""
    import torch

    data = split(setting)
    X, y = data["train"]
    batch = setting["batch_size"]
    if batch == 1:
        X, y = X[: setting["n_online"]], y[: setting["n_online"]]
    batch = len(X) if batch is None else batch
    net = random_network(setting["hidden"], torch.Generator().manual_seed(seed))
    curve, diverged = train(net, setting, setting["learning_rate"], X, y, data["valid"], seed, setting["epochs"], batch)
    per_epoch = np.diff(curve.seconds)
    return dict(curve.as_dict(), diverged=diverged, n_train=len(X), batch_size=batch,
                valid_error=None if diverged else curve.errors[-1],
                test_error=None if diverged else error_rate(net, *data["test"]),
                seconds_per_epoch=float(np.median(per_epoch)) if len(per_epoch) else None)


def run_gradients(setting: dict[str, Any], seed: int) -> dict[str, Any]:
    """One starting point: the gradient norms before any step, then each step size's
    fine-tuning from that same point."""
    import torch

    from benchmarks.unsupervised import DBN_PRETRAIN, SAE_PRETRAIN
    from groundup.unsupervised import DBN, StackedAutoencoder
    from groundup.unsupervised._nets import weight_gradient_norms

    data = split(setting)
    X, y = data["train"]
    hidden, init = tuple(setting["hidden"]), setting["init"]
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    if init in ("rbm", "autoencoder"):  # fit(X) without labels only pretrains
        common_args = dict(pretrain_n_iter=setting["pretrain_epochs"], batch_size=100, random_state=seed, device="cpu")
        stack = (DBN(hidden, **DBN_PRETRAIN, **common_args) if init == "rbm"
                 else StackedAutoencoder(hidden, **SAE_PRETRAIN, **common_args)).fit(X.numpy())
        net = classifier([w.detach() for w in stack.module_.weights], [b.detach() for b in stack.module_.biases],
                         "sigmoid", gen)
    else:
        net = random_network(hidden, gen, activation="relu" if init == "relu-he" else "sigmoid")
    pretrain_s = time.perf_counter() - start
    n = setting["n_grad"]
    norms = weight_gradient_norms(net, X[:n], y[:n])
    finetune = []
    for lr in setting["learning_rates"]:
        twin = copy.deepcopy(net)
        curve, diverged = train(twin, setting, lr, X, y, data["valid"], seed, setting["epochs"], setting["batch_size"])
        finetune.append(dict(learning_rate=lr, diverged=diverged, valid_curve=curve.errors,
                             valid_error=None if diverged else curve.errors[-1],
                             test_error=None if diverged else error_rate(twin, *data["test"])))
    return dict(gradient_norms=norms, weight_norms=[float(w.detach().norm()) for w in net.weights],
                pretrain_seconds=pretrain_s, finetune=finetune)


def run_device(setting: dict[str, Any], seed: int) -> dict[str, Any]:
    """Seconds per epoch on the device ``setting["device"]`` resolves to; the data go to
    the device once, and the clock waits for the device at each epoch's end."""
    import torch

    from groundup.torch_utils import make_optimizer, resolve_device
    from groundup.unsupervised._nets import train_classifier

    device = resolve_device(setting["device"])
    X, y = (t.to(device) for t in split(setting)["train"])
    net = random_network(setting["hidden"], torch.Generator().manual_seed(seed)).to(device)  # same weights on every device
    optimizer = make_optimizer(net.parameters(), setting["optimizer"], learning_rate=setting["learning_rate"],
                               momentum=setting["momentum"])

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    stamps: list[float] = []

    def stamp(*_: Any) -> None:  # also train_classifier's on_epoch_end(epoch, loss)
        synchronize()
        stamps.append(time.perf_counter())

    stamp()
    train_classifier(net, optimizer, X, y, epochs=setting["epochs"], batch_size=setting["batch_size"],
                     generator=torch.Generator(device=device).manual_seed(seed), on_epoch_end=stamp, name=setting["name"])
    epoch_s = np.diff(stamps).tolist()
    hardware = (torch.cuda.get_device_name(device) if device.type == "cuda"
                else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    return dict(device=str(device), hardware=hardware, cuda_available=torch.cuda.is_available(), epoch_seconds=epoch_s,
                # the first epoch pays for warm-up (kernel choice, allocations): left out where there are others
                seconds_per_epoch=statistics.median(epoch_s[1:] or epoch_s), n_train=len(X))


RUNNERS = {"optimizers": run_optimizer, "gradients": run_gradients, "devices": run_device}


def run(setting: dict[str, Any], seed: int) -> dict[str, Any]:
    """One engine run: ``setting`` (one of :func:`plan`'s), seed ``seed``."""
    import torch

    if setting.get("section") not in RUNNERS:
        raise ValueError(f"unknown section {setting.get('section')!r}; choose from {', '.join(SECTIONS)}")
    torch.manual_seed(seed)
    return RUNNERS[setting["section"]](setting, seed)


# -- choosing step sizes, reading curves -------------------------------------------------------------------
def choose(by_rate: dict[float, list[float | None]]) -> float:
    """The step size with the lowest mean validation error over its seeds; a diverged
    run (``None``) counts as 100% error; ties go to the smaller step."""
    def score(lr: float) -> float:
        return statistics.mean(1.0 if e is None else e for e in by_rate[lr])

    return min(sorted(by_rate), key=score)


def epochs_to(curves: Sequence[Sequence[float]], target: float) -> int | None:
    """The first epoch at which the mean validation error over seeds is at most
    ``target`` (the curves run from epoch 0, before training), or None."""
    n = min(len(c) for c in curves)
    mean = np.mean([list(c[:n]) for c in curves], axis=0)
    hits = np.flatnonzero(mean <= target)
    return int(hits[0]) if hits.size else None


def pct(values: Sequence[float]) -> tuple[str, str]:
    """``mean ± sd%`` (the value alone for one run) and the 95% bootstrap interval."""
    s = stats.summarize([100 * v for v in values])
    if s["n"] == 1:
        return f"{s['mean']:.2f}%", "—"
    return f"{s['mean']:.2f} ± {s['std']:.2f}%", f"[{s['ci_low']:.2f}, {s['ci_high']:.2f}]%"


def grid_text(chosen: float, grid: Sequence[float]) -> str:
    edge = " (grid edge)" if len(grid) > 1 and chosen in (min(grid), max(grid)) else ""
    return f"{chosen:g}{edge} of {', '.join(f'{g:g}' for g in grid)}"


# -- the report --------------------------------------------------------------------------------------
def optimizers_report(runs: list[dict[str, Any]], args: Any) -> list[str]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in runs:
        s = r["params"]["setting"]
        groups.setdefault((network_name(s["hidden"]), s["method"]), []).append(r)
    rows, epoch_curves, time_curves = [], {}, {}
    for (net, key), group in groups.items():
        method, s0 = METHODS[key], group[0]["params"]["setting"]
        by_rate: dict[float, list[float | None]] = {}
        for r in group:
            by_rate.setdefault(r["params"]["setting"]["learning_rate"], []).append(r["metrics"]["valid_error"])
        lr = choose(by_rate)
        best = sorted((r for r in group if r["params"]["setting"]["learning_rate"] == lr), key=lambda r: r["seed"])
        ms = [r["metrics"] for r in best]
        done = [m for m in ms if not m["diverged"]]
        n_train, epochs = ms[0]["n_train"], s0["epochs"]
        batch = (f"{n_train:,} (all)" if s0["batch_size"] is None
                 else f"1 (first {n_train:,} images)" if s0["batch_size"] == 1 else str(s0["batch_size"]))
        test, ci = pct([m["test_error"] for m in done]) if done else ("diverged", "—")
        if done and len(done) < len(ms):
            test += f" ({len(ms) - len(done)} of {len(ms)} seeds diverged)"
        valid = pct([m["valid_error"] for m in done])[0] if done else "—"
        secs = [m["seconds_per_epoch"] for m in ms if m["seconds_per_epoch"] is not None]
        curves = [m["valid_curve"] for m in ms]
        reached = [epochs_to(curves, t) for t in TARGETS]
        rows.append([net, method.label, batch, grid_text(lr, sorted(by_rate)), test, ci, valid,
                     f"{statistics.mean(secs):.2f}" if secs else "—",
                     *[f"not in {epochs}" if e is None else str(e) for e in reached]])
        label = f"{method.label} (lr {lr:g})"
        epoch_curves.setdefault(net, {})[label] = [list(enumerate(m["valid_curve"])) for m in ms]
        n = min(len(m["seconds"]) for m in ms)
        mean_s = np.mean([m["seconds"][:n] for m in ms], axis=0)  # the runs of one line share their x
        time_curves.setdefault(net, {})[label] = [list(zip(mean_s, m["valid_curve"][:n])) for m in ms]
    seeds = sorted({r["seed"] for r in runs})
    budgets = {network_name(r["params"]["setting"]["hidden"]): r["params"]["setting"] for r in runs}
    budget_text = "; ".join(f"{net}: the first {s['n_train']:,} training images, {s['epochs']} epoch(s)"
                            for net, s in budgets.items())
    n_test = args.cfg["n_test"]
    test_images = "all 10,000" if n_test is None else f"the first {n_test:,}"
    lines = ["### Training: eight optimisers on the DBN's network (sigmoid, random initialisation)", "",
             common.markdown_table(["network", "method", "batch", "step size", "test error", "95% CI", "validation error",
                                    "s/epoch", *[f"epochs to {100 * t:g}%" for t in TARGETS]], rows), "",
             f"Budgets: {budget_text}, the same for every method of a network, except that SGD with batch 1 runs its "
             f"epochs on the subset named in its row. Seeds {', '.join(map(str, seeds))} (initial weights and "
             "shuffling; mean ± sd over seeds, 95% bootstrap interval of the mean). Constant step sizes. Step size: the grid value with the lowest mean final validation error "
             f"(the first {args.cfg['n_valid']:,} validation images; a diverged run counts as 100%); '(grid edge)' marks "
             "a choice at the end of its grid. Test error on "
             f"{test_images} test images. "
             "s/epoch: training seconds per epoch (median over epochs, mean over seeds; validation not counted), one "
             "torch thread, beside one other run. Epochs to a target: the first epoch at which the mean validation "
             "curve is at or below it."]
    pictures = []
    for curves, filename, xlabel in ((epoch_curves, "training_optimizers_epochs.png", "epoch"),
                                     (time_curves, "training_optimizers_time.png", "training seconds (mean over seeds)")):
        stats.plot_curves(curves, args.out / filename, xlabel=xlabel, ylabel="validation error (95% band over seeds)",
                          thresholds={net: TARGETS[-1] for net in curves}, ncols=2, panel_size=(6.0, 4.5), log_y=True,
                          integer_x=xlabel == "epoch")
        pictures.append(f"![validation error against {xlabel.split(' (')[0]}]({filename})")
    return lines + ["", " ".join(pictures)]


def gradients_report(runs: list[dict[str, Any]], args: Any) -> list[str]:
    by_init: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(runs, key=lambda r: r["seed"]):
        by_init.setdefault(r["params"]["setting"]["init"], []).append(r["metrics"])
    s0 = runs[0]["params"]["setting"]
    n_layers = len(s0["hidden"]) + 1
    rows, curves = [], {}
    for init in (i for i in INITS if i in by_init):
        ms = by_init[init]
        norms = np.mean([m["gradient_norms"] for m in ms], axis=0)
        by_rate: dict[float, list[float | None]] = {}
        for m in ms:
            for f in m["finetune"]:
                by_rate.setdefault(f["learning_rate"], []).append(f["valid_error"])
        lr = choose(by_rate)
        tests = [f["test_error"] for m in ms for f in m["finetune"] if f["learning_rate"] == lr and not f["diverged"]]
        test, ci = pct(tests) if tests else ("diverged", "—")
        rows.append([INITS[init], *[f"{v:.2g}" for v in norms], f"{norms[0] / norms[-1]:.2g}",
                     grid_text(lr, sorted(by_rate)), test, ci])
        curves[INITS[init]] = [list(zip(range(1, n_layers + 1), m["gradient_norms"])) for m in ms]
    panel = f"{network_name(s0['hidden'])}: gradient norm of each layer's weights before training"
    stats.plot_curves({panel: curves}, args.out / "training_gradients.png", xlabel="layer (1 = first hidden, "
                      f"{n_layers} = softmax)", ylabel="||dL/dW|| (95% band over seeds)", ncols=1, panel_size=(7.0, 4.5),
                      log_y=True, integer_x=True)
    seeds = sorted({r["seed"] for r in runs})
    headers = ["network", *[f"‖∇W{l}‖" for l in range(1, n_layers)], f"‖∇W{n_layers}‖ (softmax)", "first / last",
               "step size", "test error", "95% CI"]
    return ["### Training: vanishing gradients in a deep sigmoid network, pretrained or not, and with ReLU", "",
            common.markdown_table(headers, rows), "",
            f"{network_name(s0['hidden'])}. Gradient norms: the Frobenius norm of the gradient of the mean cross-entropy "
            f"of the first {s0['n_grad']:,} training images with respect to each layer's weights, before any step "
            "(a new Glorot-uniform softmax layer on top of the pretrained ones), mean over seeds "
            f"{', '.join(map(str, seeds))}. Pretraining: {s0['pretrain_epochs']} epoch(s) a layer on the first "
            f"{s0['n_train']:,} training images (RBMs: CD-1, step 0.05, momentum 0.9; autoencoders: masking noise 0.2, "
            f"Adam 1e-3). Then {s0['epochs']} epochs of SGD (momentum 0.9, batch 100, constant step) on the same "
            "images for every network, the step size chosen on the validation images as above; test error mean ± sd "
            "over seeds.", "", "![gradient norms per layer](training_gradients.png)"]


def devices_report(runs: list[dict[str, Any]], args: Any) -> list[str]:
    by_device: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_device.setdefault(r["params"]["setting"]["device"], []).append(r["metrics"])
    s0 = runs[0]["params"]["setting"]
    cpu = [m["seconds_per_epoch"] for m in by_device.get("cpu", [])]
    rows, no_gpu = [], False
    for asked in ("cpu", "auto"):
        if asked not in by_device:
            continue
        ms = by_device[asked]
        secs = [m["seconds_per_epoch"] for m in ms]
        ran_on = ms[0]["device"]
        if asked == "auto" and not ran_on.startswith("cuda"):
            no_gpu = True
            ran_on += " (no GPU on this machine)"
        speedup = (f"{statistics.mean(cpu) / statistics.mean(secs):.1f}x" if cpu and asked == "auto" and not no_gpu
                   else "—")
        rows.append([f'device="{asked}"', ran_on, ms[0]["hardware"], common.mean_std(secs, 3), speedup])
    lines = ["### Training: CPU against GPU", "",
             common.markdown_table(["asked", "ran on", "hardware", "s/epoch", "speed-up over the CPU"], rows), "",
             f"{network_name(s0['hidden'])}, SGD with momentum {s0['momentum']}, batch {s0['batch_size']}, the first "
             f"{s0['n_train']:,} training images, {s0['epochs']} epochs a run (the first left out as warm-up); the data "
             "sit on the device from the start. Each run had the machine to itself; mean ± sd over seeds."]
    if no_gpu:
        lines += ["", 'No GPU was available where this ran, so `device="auto"` resolved to the CPU: its row is the '
                  "GPU code path run on the CPU, not a GPU figure. Run the benchmark on a machine with CUDA for the "
                  "comparison."]
    return lines


def report(records: list[dict[str, Any]], args: Any) -> str:
    ok: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["status"] == "ok":
            ok.setdefault(r["params"]["setting"]["section"], []).append(r)
    lines: list[str] = []
    for section, write in (("optimizers", optimizers_report), ("gradients", gradients_report),
                           ("devices", devices_report)):
        if section in ok:
            lines += write(ok[section], args) + [""]
    missing = [s for s in SECTIONS if s not in ok]
    if missing:
        lines += [f"Not run in this configuration: {', '.join(missing)}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import torch

    args = common.parse_args("training", __doc__.splitlines()[0], argv)
    args.cfg = CONFIGS[args.mode]
    check_grids()
    seeds = common.seeds_for(args, SEEDS[args.mode])
    settings = [s for s in plan(args.cfg) if common.selected(args, s["name"])]
    if not settings:
        raise SystemExit(f"--only {','.join(args.only)} matches no run; run names look like "
                         "optimizers:784-500-500-10:adam, gradients:rbm, devices:auto")
    records: list[dict[str, Any]] = []
    # The device runs time a whole epoch: each has the machine to itself (and the GPU, if any).
    for s in (s for s in settings if s["section"] == "devices"):
        gpus = 1 if s["device"] == "auto" and torch.cuda.is_available() else 0
        common.log(f"training ({args.mode}): {s['name']}; seeds {seeds}; all cores{', one GPU' if gpus else ''}")
        records += common.sweep(args, RUN, {"setting": [s]}, seeds, num_cpus=common.all_cores(), num_gpus=gpus).records
    rest = [s for s in settings if s["section"] != "devices"]
    if rest:
        common.log(f"training ({args.mode}): {len(rest)} settings x {len(seeds)} seeds, one core a run")
        records += common.sweep(args, RUN, {"setting": rest}, seeds, num_cpus=1).records
    common.finish(args, records, lambda: report(records, args), lambda r: r["params"]["setting"]["name"])


if __name__ == "__main__":
    main()
