"""Assertions shared by the tests of layers with weights (conv, local)."""

from cnnlib.gradcheck import rel_error


def assert_fast_matches_naive(fast, naive, x, w, b, cfg, rng, msg):
    """Fast and loop versions agree on out, dx, dw and db (None without b).

    ``fast`` and ``naive`` are ``(forward, backward)`` pairs; ``cfg`` holds
    the keyword arguments of the forwards; ``msg`` names the configuration.
    """
    out, cache = fast[0](x, w, b, **cfg)
    out_n, cache_n = naive[0](x, w, b, **cfg)
    assert out.shape == out_n.shape, msg
    assert rel_error(out, out_n) < 1e-10, msg
    dout = rng.standard_normal(out.shape)
    grads = fast[1](dout, cache)
    grads_n = naive[1](dout, cache_n)
    for name, g, g_n in zip(("dx", "dw", "db"), grads, grads_n):
        if b is None and name == "db":
            assert g is None and g_n is None, msg
            continue
        assert g.shape == g_n.shape, f"{name} {msg}"
        assert rel_error(g, g_n) < 1e-10, f"{name} {msg}"
