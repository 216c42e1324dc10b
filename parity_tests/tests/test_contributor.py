"""A contributor adds a layer in three places (layer, reference, one entry) and writes no
test code: every check of the harness then applies to it. This test is that contributor:
a PReLU (one learnable slope per channel) written here as a NumPy layer, referenced to the
stock ``nn.PReLU``, with one entry; the plan must give it every check that applies to a
layer with parameters, all passing, and a wrong backward must fail them.
"""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from numpy_impl.base import Layer
from numpy_impl.validation import check_axis_size, check_min_rank, check_positive_int
from parity_tests import checks
from parity_tests.entry import Entry, layer_errors, zeros
from parity_tests.samples import Sample, integers
from torch_ref.base import Reference, link_module


class PReLU(Layer):
    """y = x if x > 0 else a_c·x per channel c (the last axis);
    dx = dy if x > 0 else a_c·dy;  da_c = Σ dy·x over the entries with x <= 0 of channel c."""

    def __init__(self, num_parameters: int = 1, dtype: object = np.float32) -> None:
        super().__init__(dtype)
        self.num_parameters = check_positive_int(self.where, "num_parameters", num_parameters)
        assert self.dtype is not None
        self._params["weight"] = np.full(num_parameters, 0.25, dtype=self.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        check_min_rank(f"{self.where}.forward", "x", x, 1, "(batch, ..., channels)")
        if self.num_parameters > 1:
            check_axis_size(f"{self.where}.forward", "x", x, -1, self.num_parameters,
                            "channels")
        a = self._params["weight"]
        return self._remember_output(np.where(x > 0, x, a * x), x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._take_cache(dy)
        a = self._params["weight"]
        negative = x <= 0
        per_channel = np.where(negative, dy * x, 0).reshape(-1, x.shape[-1]).sum(axis=0)
        self._grads["weight"] = (per_channel if self.num_parameters > 1
                                 else per_channel.sum(keepdims=True)).astype(x.dtype)
        return np.where(negative, a * dy, dy)


def prelu_reference(layer: PReLU) -> Reference:
    """nn.PReLU acts on axis 1; the NumPy layer's channels are last, so permute around it."""
    module = nn.PReLU(layer.num_parameters)
    return link_module(layer, module,
                       forward=lambda x: module(x.movedim(-1, 1)).movedim(1, -1))


ENTRY = Entry(
    name="prelu",
    layer=PReLU,
    reference=prelu_reference,
    samples=(Sample("b16d8", (16, 8), {"num_parameters": 8}),
             Sample("shared-b4h3w3c2", (4, 3, 3, 2)),
             Sample("ties-b16d8", (16, 8), {"num_parameters": 8}, make_input=integers(-2, 3),
                    gradcheck=False)),
    errors=layer_errors(zeros(4, 8)),
    error_kwargs={"num_parameters": 8},
    error_args=(zeros(4, 8),),
)
JOBS = checks.plan(entries=[ENTRY])


def test_every_applicable_check_covers_the_new_layer():
    assert {job.check.name for job in JOBS} == set(checks.CHECK_NAMES) - {
        "buffers", "impl-agreement"}  # PReLU has no buffers and one path


@pytest.mark.parametrize("job", [pytest.param(job, id=job.id) for job in JOBS])
def test_the_new_layer_passes_every_check(job):
    job.run(0).assert_ok()


def test_a_wrong_backward_in_the_new_layer_fails(monkeypatch):
    original = PReLU.backward
    monkeypatch.setattr(PReLU, "backward", lambda self, dy: original(self, dy) * 1.01)
    failed = {job.check.name for job in JOBS if job.run(0).status == checks.FAIL}
    assert {"input-grad", "finite-diff"} <= failed
