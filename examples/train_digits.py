"""Train the NumPy MLP and CNN on scikit-learn's digits, and check them against torch.

    python examples/train_digits.py            # about 10-20 s on one core

1. Trajectory parity: each model and its torch twin (stock nn modules, same initial
   weights, same batches in the same order, same optimizer) train for 50 steps; the
   script prints the largest relative loss difference over the steps and the largest
   parameter difference at the end, in float64 and float32, against the bounds the test
   suite asserts (parity_tests/test_training.py).
2. Real data: the MLP (64-32-16-10) and the CNN (Conv-BN-ReLU-MaxPool-SE-Flatten-Linear)
   trained with numpy_impl only, on a fixed stratified 75/25 split (1,347 / 450 digits,
   pixels / 16), with a progress bar; prints the held-out accuracies.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from parity_tests.training_parity import (  # noqa: E402
    FLOAT32_DRIFT,
    FLOAT32_PARAM_RTOL,
    FLOAT64_LOSS_RTOL,
    FLOAT64_PARAM_RTOL,
    TRAJECTORY_STEPS,
    build,
    run_trajectories,
    train_cnn_on_digits,
    train_mlp_on_digits,
)


def parity() -> bool:
    """Print the trajectory comparison table; True if every run is within its bounds."""
    print(f"Trajectory parity with torch, {TRAJECTORY_STEPS} steps of batches of 32 "
          f"(max over steps of |L_numpy - L_torch| / |L_torch|; parameters at the end)")
    print(f"{'model':5} {'optimizer':16} {'dtype':8} {'loss drift':>11} {'bound':>8} "
          f"{'param diff':>11} {'bound':>8}  loss first -> last")
    ok = True
    for kind in ("mlp", "cnn"):
        for optimizer in ("sgd-momentum-wd", "adam"):
            for dtype in (np.float64, np.float32):
                model, images, x, y = build(kind, np.dtype(dtype))
                run = run_trajectories(model, images, optimizer, x, y)
                is64 = dtype is np.float64
                loss_bound = FLOAT64_LOSS_RTOL if is64 else FLOAT32_DRIFT[kind]
                param_bound = FLOAT64_PARAM_RTOL if is64 else FLOAT32_PARAM_RTOL
                drift, param = run.loss_drift.max(), run.max_param_error
                good = drift <= loss_bound and param <= param_bound
                ok &= good
                print(f"{kind:5} {optimizer:16} {np.dtype(dtype).name:8} {drift:11.2e} "
                      f"{loss_bound:8.0e} {param:11.2e} {param_bound:8.0e}  "
                      f"{run.numpy_loss[0]:.3f} -> {run.numpy_loss[-1]:.3f}"
                      f"{'' if good else '   <-- OUT OF BOUNDS'}")
    return ok


def main() -> int:
    torch.set_num_threads(1)
    start = time.perf_counter()
    ok = parity()
    print()
    for name, train in (("MLP 64-32-16-10", train_mlp_on_digits),
                        ("CNN conv-bn-relu-pool-se-linear", train_cnn_on_digits)):
        print(f"Training the {name} (numpy_impl, float32, SGD momentum 0.9):")
        began = time.perf_counter()
        _, history = train(progress=True)
        print(f"  {history.epochs} epochs in {time.perf_counter() - began:.1f} s: "
              f"train accuracy {history.accuracy[-1]:.4f}, "
              f"held-out accuracy {history.val_accuracy[-1]:.4f} "
              f"(loss {history.val_loss[-1]:.4f})")
    print(f"\nTotal {time.perf_counter() - start:.1f} s; trajectories "
          f"{'all within bounds' if ok else 'OUT OF BOUNDS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
