"""The pairing registry, the comparison harness, ``parity check``, and the tests."""
