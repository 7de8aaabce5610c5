"""Times numpy's confusion-matrix idiom on the same sizes as benches/metrics.rs.

    python3 crates/segloss/benches/numpy_bincount.py [pixels]

Prints Gpixel/s of np.bincount(truth * k + pred, minlength=k*k) for k = 2 and k = 6 on
u8 masks of 64 Mi pixels (default), best of 5 runs, single thread (numpy's bincount is
single-threaded).
"""
import sys, time
import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 64 << 20
rng = np.random.default_rng(0)
for k in (2, 6):
    truth = rng.integers(0, k, n, dtype=np.uint8)
    pred = np.where(rng.random(n) < 0.875, truth, rng.integers(0, k, n, dtype=np.uint8)).astype(np.uint8)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        cm = np.bincount(truth * k + pred, minlength=k * k)
        best = min(best, time.perf_counter() - t0)
    assert cm.sum() == n
    print(f"numpy bincount k={k}: {n / best / 1e9:.3f} Gpixel/s ({best * 1e3:.1f} ms for {n} pixels)")
