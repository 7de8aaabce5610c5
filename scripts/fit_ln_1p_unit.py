#!/usr/bin/env python3
"""Coefficients of `ln_1p_unit` (crates/segloss/src/math/log.rs).

ln(1 + e) = e + e^2 Q(e) on [0, 1], Q of degree 8, fitted for the relative error of
ln(1 + e) by Lawson's iteratively reweighted least squares (which converges to the minimax
fit) on 4001 Chebyshev nodes, the target (ln(1 + e) - e) / e^2 computed with mpmath at 40
digits. Prints the fit error and the coefficients rounded to f32, lowest degree first; the
Rust code lists them highest first (Horner). Needs numpy and mpmath:

    python3 scripts/fit_ln_1p_unit.py

The accuracy of the rounded coefficients in f32 arithmetic is measured, over every f32 in
[0, 1], by `cargo test --release -p segloss --lib exhaustive_ln_1p_unit -- --ignored`.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
DEGREE = 9  # number of coefficients of Q


def target(x):
    x = mp.mpf(x)
    return float((mp.log1p(x) - x) / x**2)


def fit(n_coef, iters=80, nodes=4000):
    k = np.arange(nodes)
    e = np.concatenate([0.5 - 0.5 * np.cos(np.pi * (k + 0.5) / nodes), [1.0]])
    f = np.array([target(x) for x in e])
    # error of ln(1+e) relative to its value: e^2 dQ / ln(1+e) = dQ * e / P, P = ln(1+e)/e
    weight = e / (np.log1p(e) / e)
    a = np.vander(e, n_coef, increasing=True)
    u = np.ones_like(e)
    for _ in range(iters):
        w = np.sqrt(u) * weight
        c, *_ = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)
        r = np.abs((a @ c - f) * weight)
        u = u * r
        u /= u.sum()
    return c, r.max()


coef, err = fit(DEGREE)
print(f"max relative error of the fit: {err:.3e} ({err / 2**-24:.3f} x 2^-24)")
for i, v in enumerate(np.float32(coef)):
    print(f"q{i} = {float(v)!r}")
