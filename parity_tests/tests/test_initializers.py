"""Initializers against torch.nn.init: same fans, same bounds and spreads, seeded draws."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from numpy_impl import INITIALIZERS, Linear, get_initializer
from numpy_impl.initializers import ALIASES, as_generator, bias_bound, fans, initialize

# NumPy layout (…, in, out) and the torch layout of the same weight.
SHAPES = {
    "linear": ((300, 200), lambda s: (s[1], s[0])),
    "conv1d": ((5, 16, 32), lambda s: (s[2], s[1], s[0])),
    "conv": ((3, 3, 16, 32), lambda s: (s[3], s[2], s[0], s[1])),
}

TORCH_INITS = {
    "xavier_uniform": torch.nn.init.xavier_uniform_,
    "xavier_normal": torch.nn.init.xavier_normal_,
    "kaiming_uniform": torch.nn.init.kaiming_uniform_,
    "kaiming_normal": torch.nn.init.kaiming_normal_,
    "torch_default": lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
}


@pytest.mark.parametrize("layout", SHAPES)
def test_fans_match_torch(layout):
    shape, to_torch = SHAPES[layout]
    torch_fans = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(to_torch(shape)))
    assert fans(shape) == torch_fans


@pytest.mark.parametrize("layout", SHAPES)
@pytest.mark.parametrize("name", sorted(TORCH_INITS))
def test_distribution_matches_torch(name, layout):
    """Max |w| (uniform) or the std (normal) agrees with torch's draw of the same weight."""
    shape, to_torch = SHAPES[layout]
    ours = get_initializer(name)(shape, np.random.default_rng(0), np.dtype(np.float64))
    torch.manual_seed(0)
    theirs = TORCH_INITS[name](torch.empty(to_torch(shape), dtype=torch.float64)).numpy()
    assert ours.shape == shape
    assert abs(ours.mean()) < 0.05 * ours.std()
    if "uniform" in name or name == "torch_default":
        assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.01)
    else:
        assert ours.std() == pytest.approx(theirs.std(), rel=0.03)


def test_zeros_and_aliases():
    rng = np.random.default_rng(0)
    assert not get_initializer("zeros")((3, 4), rng, np.dtype(np.float32)).any()
    for alias, name in ALIASES.items():
        assert get_initializer(alias) is INITIALIZERS[name]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_draws_are_seeded_and_typed(dtype):
    first = Linear(20, 10, dtype=dtype, rng=np.random.default_rng(7))
    again = Linear(20, 10, dtype=dtype, rng=7)
    other = Linear(20, 10, dtype=dtype, rng=8)
    np.testing.assert_array_equal(first.params["weight"], again.params["weight"])
    assert not np.array_equal(first.params["weight"], other.params["weight"])
    assert first.params["weight"].dtype == dtype
    assert first.params["bias"].dtype == dtype
    assert not first.params["bias"].any()  # the seeds' zero bias


def test_torch_default_bias_range():
    layer = Linear(25, 400, bias_init="torch_default", rng=0)
    bias = layer.params["bias"]
    assert np.abs(bias).max() <= 1 / 5
    assert np.abs(bias).max() > 0.95 / 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_every_initializer_draws_its_shape_in_the_dtype_asked(name, dtype):
    drawn = initialize(name, (4, 3, 6, 5), np.random.default_rng(0), np.dtype(dtype))
    assert drawn.shape == (4, 3, 6, 5) and drawn.dtype == dtype


@pytest.mark.parametrize("fan_in", [1, 4, 25])
def test_bias_bound_is_one_over_the_square_root_of_fan_in_as_torch(fan_in):
    """torch's default bias: U(−1/√fan_in, 1/√fan_in), fan_in 1 included."""
    linear = torch.nn.Linear(fan_in, 3)
    torch_bound = 1 / math.sqrt(torch.nn.init._calculate_fan_in_and_fan_out(linear.weight)[0])
    assert bias_bound((fan_in, 3)) == pytest.approx(torch_bound, rel=1e-12)


def test_a_zero_fan_in_has_a_zero_bias_bound_as_torch():
    assert bias_bound((0, 3)) == 0.0  # torch: 1/√fan_in if fan_in > 0 else 0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: get_initializer("nope"), ValueError,
         "get_initializer: name must be one of 'xavier_uniform', 'xavier_normal', "
         "'kaiming_uniform', 'kaiming_normal', 'torch_default', 'zeros', 'glorot_uniform', "
         "'glorot_normal', 'he_uniform', 'he_normal', got 'nope'"),
        (lambda: fans((3,)), ValueError,
         "fans: shape must have at least 2 dimensions (in, out), got (3,)"),
        (lambda: as_generator("a"), TypeError,
         "as_generator: rng must be a numpy.random.Generator, an int seed or None, got 'a'"),
    ],
)
def test_bad_initializer_arguments_are_named(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        call()
