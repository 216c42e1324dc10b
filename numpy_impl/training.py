"""Mini-batch training: batching, one training step, evaluation, ``fit`` with a history.

One step on a batch (x_b, y_b)::

    ŷ = model.forward(x_b);  L = loss.forward(ŷ, y_b)
    model.backward(loss.backward());  optimizer.step()

An epoch visits every sample once, in the order of ``rng.permutation(N)`` (a seeded
``numpy.random.Generator``, so the batches are reproducible and can be replayed in torch),
in batches of ``batch_size`` (the last one smaller unless ``drop_last``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from numpy_impl.base import Layer, Loss
from numpy_impl.initializers import as_generator
from numpy_impl.optim import Optimizer
from numpy_impl.validation import check_float_array, check_positive_int

if TYPE_CHECKING:
    from rich.progress import Progress


def batch_indices(
    n: int,
    batch_size: int,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[np.ndarray]:
    """Index arrays of one epoch's batches: ``rng.permutation(n)`` cut into chunks.

    Without ``shuffle`` the order is 0 … n−1 and ``rng`` is not used (may be None).
    Exactly one ``rng.permutation`` call per epoch, so a generator seeded the same way
    replays the same batches.
    """
    n = check_positive_int("batch_indices", "n", n)
    batch_size = check_positive_int("batch_indices", "batch_size", batch_size)
    if shuffle:
        if rng is None:
            raise ValueError("batch_indices: shuffle=True needs rng (a numpy Generator)")
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def accuracy(scores: np.ndarray, targets: np.ndarray) -> float | None:
    """Fraction of rows whose arg-max score is the target class, or None if not a
    classification: ``scores`` (N, C) with C ≥ 2 and ``targets`` integer labels (N,) or
    one-hot/probability rows (N, C) (their arg-max is the class)."""
    if scores.ndim != 2 or scores.shape[1] < 2 or scores.shape[0] == 0:
        return None
    if targets.ndim == 1 and np.issubdtype(targets.dtype, np.integer):
        labels = targets
    elif targets.shape == scores.shape:
        labels = np.argmax(targets, axis=1)
    else:
        return None
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def train_step(
    model: Layer, loss: Loss, optimizer: Optimizer, x: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Forward, loss, backward, optimizer step on one batch; returns (loss, predictions)
    where the loss and predictions are those *before* the update."""
    predictions = model.forward(x)
    value = loss.forward(predictions, y)
    model.backward(loss.backward())
    optimizer.step()
    return value, predictions


def evaluate(
    model: Layer, loss: Loss, x: np.ndarray, y: np.ndarray, batch_size: int | None = None
) -> tuple[float, float | None]:
    """(mean loss, accuracy) of ``model`` on (x, y) in eval mode, without updating anything.

    The loss is the sample-weighted mean of the batch losses, which equals the full-batch
    loss for mean-reduced losses over per-sample means (cross-entropy, MSE). The model is
    returned to the train/eval mode it was in.
    """
    n = len(x)
    batch_size = n if batch_size is None else check_positive_int("evaluate", "batch_size",
                                                                  batch_size)
    was_training = model.training
    model.eval()
    try:
        total, outputs = 0.0, []
        for index in batch_indices(n, batch_size, shuffle=False):
            predictions = model.forward(x[index])
            total += loss.forward(predictions, y[index]) * len(index)
            outputs.append(predictions)
    finally:
        model.train(was_training)
    return total / n, accuracy(np.concatenate(outputs), y)


@dataclass
class History:
    """What ``fit`` measured.

    Per epoch: ``loss``/``accuracy`` are the sample-weighted means over that epoch's
    training batches (each measured before its own update, as Keras reports them);
    ``val_loss``/``val_accuracy`` are measured in eval mode after the epoch (empty without
    validation data). ``step_loss`` has the loss of every training step, in order.
    Accuracies are None when the task is not a classification.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)


def _check_data(where: str, x: object, y: object, name: str = "") -> None:
    check_float_array(where, f"x{name}", x)
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: y{name} must be a numpy.ndarray, got {type(y).__name__}")
    assert isinstance(x, np.ndarray)
    if len(x) != len(y):
        raise ValueError(f"{where}: x{name} has {len(x)} samples but y{name} has {len(y)}")
    if len(x) == 0:
        raise ValueError(f"{where}: x{name} has no samples")


def _progress(enabled: bool) -> Progress:
    """A rich progress bar (rich is imported only when fit runs)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        disable=not enabled,
        transient=False,
    )


def fit(
    model: Layer,
    loss: Loss,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator | int | None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = True,
    shuffle: bool = True,
    drop_last: bool = False,
    lr_schedule: Callable[[int], float] | None = None,
) -> History:
    """Train ``model`` with mini-batch steps for ``epochs`` epochs; returns the History.

    Each epoch draws one permutation from ``rng`` (a Generator or an int seed) and takes
    one :func:`train_step` per batch of ``batch_size``; the model is in train mode during
    the epoch and in eval mode for the ``validation`` pass (x_val, y_val). The progress
    bar (``rich``) shows the steps and the running loss/accuracy; it is off when
    ``progress`` is False or stdout is not a terminal.

    ``lr_schedule(epoch)`` (epoch counted from 0), if given, sets ``optimizer.lr`` at the
    start of every epoch, e.g. a step decay ``lambda e: 0.05 if e < 8 else 0.005``.
    Calling ``fit`` again continues training (same model, optimizer state and, if ``rng``
    is a Generator, the same random stream).
    """
    where = "fit"
    _check_data(where, x, y)
    if validation is not None:
        if not isinstance(validation, tuple) or len(validation) != 2:
            raise TypeError(f"{where}: validation must be a pair (x_val, y_val)")
        _check_data(where, *validation, name="_val")
    epochs = check_positive_int(where, "epochs", epochs)
    batch_size = check_positive_int(where, "batch_size", batch_size)
    if drop_last and batch_size > len(x):
        raise ValueError(f"{where}: batch_size {batch_size} > {len(x)} samples with "
                         f"drop_last=True leaves no batch")
    generator = as_generator(rng, where)
    history = History()
    steps_per_epoch = (len(x) // batch_size if drop_last
                       else -(-len(x) // batch_size))
    with _progress(progress and sys.stdout.isatty()) as bar:
        for epoch in range(epochs):
            task = bar.add_task(f"epoch {epoch + 1}/{epochs}", total=steps_per_epoch,
                                metrics="")
            if lr_schedule is not None:
                lr = float(lr_schedule(epoch))
                if not lr >= 0 or not np.isfinite(lr):
                    raise ValueError(f"{where}: lr_schedule({epoch}) must be a finite "
                                     f"learning rate >= 0, got {lr}")
                optimizer.lr = lr
            model.train()
            total, seen, correct = 0.0, 0, 0.0
            is_classification = True
            for index in batch_indices(len(x), batch_size, generator, shuffle, drop_last):
                value, predictions = train_step(model, loss, optimizer, x[index], y[index])
                if not np.isfinite(value):
                    raise FloatingPointError(
                        f"{where}: the loss became {value} at epoch {epoch + 1}, step "
                        f"{len(history.step_loss) + 1}; lower the learning rate or scale "
                        f"the inputs"
                    )
                history.step_loss.append(value)
                total += value * len(index)
                seen += len(index)
                batch_accuracy = accuracy(predictions, y[index])
                if batch_accuracy is None:
                    is_classification = False
                else:
                    correct += batch_accuracy * len(index)
                metrics = f"loss {total / seen:.4f}"
                if is_classification:
                    metrics += f"  acc {correct / seen:.3f}"
                bar.update(task, advance=1, metrics=metrics)
            history.loss.append(total / seen)
            history.accuracy.append(correct / seen if is_classification else None)
            if validation is not None:
                val_loss, val_accuracy = evaluate(model, loss, *validation,
                                                  batch_size=max(batch_size, 256))
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_accuracy)
                metrics += f"  val_loss {val_loss:.4f}"
                if val_accuracy is not None:
                    metrics += f"  val_acc {val_accuracy:.3f}"
                bar.update(task, metrics=metrics)
    model.train()
    return history
