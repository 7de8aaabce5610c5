#!/usr/bin/env python3
"""The Python loop `segloss eval` is compared with: PIL + numpy binary confusion counts.

Pairs files by relative path under --pred and --truth, reads each pair with PIL, binarises
(value > 0), counts TP/FP/FN/TN with np.bincount, sums over images with a multiprocessing
pool (--workers, default 2 = both cores of the reference machine) and prints the totals
and Dice/IoU as JSON. --decode-only reads the images and counts nothing.

    python3 scripts/eval_python_baseline.py --pred W/pred --truth W/truth [--workers 2]
"""
import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

DECODE_ONLY = False


def counts(pair):
    pred_path, truth_path = pair
    p = np.asarray(Image.open(pred_path))
    t = np.asarray(Image.open(truth_path))
    if DECODE_ONLY:
        return np.zeros(4, dtype=np.int64)
    if p.shape != t.shape:
        raise ValueError(f"sizes differ: {pred_path} {p.shape} vs {truth_path} {t.shape}")
    idx = (t > 0).astype(np.uint8) * 2 + (p > 0).astype(np.uint8)
    # bincount index: 0 = TN, 1 = FP, 2 = FN, 3 = TP
    return np.bincount(idx.ravel(), minlength=4).astype(np.int64)


def init(decode_only):
    global DECODE_ONLY
    DECODE_ONLY = decode_only


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pred", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--decode-only", action="store_true")
    a = ap.parse_args()
    pairs = []
    for root, _, files in os.walk(a.pred):
        for f in sorted(files):
            if f.lower().endswith((".png", ".tif", ".tiff")):
                rel = os.path.relpath(os.path.join(root, f), a.pred)
                t = os.path.join(a.truth, rel)
                if os.path.exists(t):
                    pairs.append((os.path.join(a.pred, rel), t))
    pairs.sort()
    start = time.perf_counter()
    total = np.zeros(4, dtype=np.int64)
    with Pool(a.workers, initializer=init, initargs=(a.decode_only,)) as pool:
        for c in pool.imap_unordered(counts, pairs, chunksize=4):
            total += c
    elapsed = time.perf_counter() - start
    tn, fp, fn, tp = (int(x) for x in total)
    out = {"images": len(pairs), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
           "seconds": round(elapsed, 3), "decode_only": a.decode_only}
    if not a.decode_only:
        out["dice"] = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 1.0
        out["iou"] = tp / (tp + fp + fn) if (tp + fp + fn) else 1.0
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
