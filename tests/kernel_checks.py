"""Assertions shared by the kernel tests (conv, local, pool, data)."""

import pytest

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


def assert_refused_before_allocating(call, words, exc=ValueError):
    """``call()`` raises ``exc`` with all ``words``, allocating < 10 MB first.

    The address space is capped at 1 GB above its current size meanwhile,
    so code that does try a huge allocation fails fast with MemoryError
    instead of swapping the machine.
    """
    import resource
    import tracemalloc

    with open("/proc/self/statm") as f:
        in_use = int(f.read().split()[0]) * resource.getpagesize()
    old = resource.getrlimit(resource.RLIMIT_AS)
    cap = in_use + 2**30
    if old[1] != resource.RLIM_INFINITY:
        cap = min(cap, old[1])
    resource.setrlimit(resource.RLIMIT_AS, (cap, old[1]))
    tracemalloc.start()
    try:
        with pytest.raises(exc) as info:
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        resource.setrlimit(resource.RLIMIT_AS, old)
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    assert peak < 10**7, f"allocated {peak} bytes before refusing"
