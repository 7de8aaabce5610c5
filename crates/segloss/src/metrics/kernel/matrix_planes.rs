//! AVX-512 bit-plane kernel for the multi-class `u8` confusion matrix (`k ≤ 15`).
//!
//! Why bit planes: counting cell `(i, j)` with byte compares costs one compare per cell per
//! 64 pixels, and on Intel every mask compare runs on one port. Here each pixel becomes the
//! code `t·16 + p` (one byte), a `GF2P8AFFINEQB` transposes each 8×8 bit block so that a
//! byte holds one bit of 8 pixels, and three rounds of `VPERMT2B` gather the 512 pixels of
//! eight vectors into eight registers, one per code bit. The bit planes of the truth field
//! decode (`VPTERNLOG`, three-input AND of plane literals) into one 512-bit mask `T_i` per
//! class, those of the prediction field into `P_j`, and cell `(i, j)` gains
//! `popcount(T_i & P_j)` with `VPOPCNTQ`: three vector instructions per cell per 512 pixels
//! instead of one compare per cell per 64.
//!
//! Validity without per-pixel branches: an ignored pixel's truth field becomes 15 (no class,
//! as `k ≤ 15`) and its prediction 0; an OR of every kept byte catches labels ≥ 16; labels
//! in `k..16` fall in no cell, so the cell total plus the ignored count falls short of the
//! pixels seen. Either way the call reports "bad" and the caller rescans with the scalar
//! path, which names the offending pixel.

use std::arch::x86_64::*;

/// Pixels per step: eight 64-byte vectors.
const BLOCK: usize = 512;
/// Blocks per chunk: the chunk's class masks (`2·k` vectors a block) stay in L1.
const CHUNK_BLOCKS: usize = 16;
/// Matrix rows counted per pass over a chunk: `ROWS·k` accumulators stay in registers.
const ROWS: usize = 3;
/// Largest `k`: the truth field's value 15 is kept for ignored pixels.
pub(super) const MAX_CLASSES: usize = 15;

/// `VPERMT2B` indices of the three transpose rounds, `[round][lo/hi]`.
///
/// After the bit transpose, byte `8q + b` of a vector holds bit `b` of pixels `8q..8q+8`.
/// Each round merges two vectors with the same set of bits (from different pixels): the
/// "lo" output keeps the lower half of the bits, the "hi" output the upper half, each from
/// both inputs. Both outputs use the same positions for the same pixels, so after three
/// rounds every plane lists its 512 pixels in the same order.
fn round_indices() -> [[[u8; 64]; 2]; 3] {
    let mut rank: [u8; 64] = std::array::from_fn(|i| (i % 8) as u8);
    let mut out = [[[0u8; 64]; 2]; 3];
    let mut size = 8u8;
    for round in out.iter_mut() {
        let half = size / 2;
        let mut next = [0u8; 64];
        for (side, idx) in round.iter_mut().enumerate() {
            let keep = |r: u8| (r >= half) == (side == 1);
            let pos: Vec<u8> = (0..64u8).filter(|&i| keep(rank[i as usize])).collect();
            for (j, &p) in pos.iter().enumerate() {
                idx[j] = p;
                idx[j + 32] = p + 64;
                next[j] = rank[p as usize] % half;
                next[j + 32] = rank[p as usize] % half;
            }
        }
        rank = next;
        size = half;
    }
    out
}

/// Adds the counts of `truth × pred` to `out` (`K × K`, row = truth) and returns the
/// ignored count and whether some kept pixel has a label `≥ K` (then `out` is garbage).
///
/// # Safety
/// The CPU must support AVX-512F/BW/VBMI/VPOPCNTDQ and GFNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vpopcntdq,gfni,popcnt")]
pub(super) unsafe fn count_planes(
    truth: &[u8],
    pred: &[u8],
    k: u8,
    ign: u8,
    use_ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    macro_rules! by_k {
        ($($k:literal)*) => {
            match (k, use_ign != 0) {
                $(($k, true) => count_k::<$k, true>(truth, pred, ign, out),
                  ($k, false) => count_k::<$k, false>(truth, pred, ign, out),)*
                _ => unreachable!("k is checked to be in 1..=MAX_CLASSES"),
            }
        };
    }
    by_k!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
}

/// `a & b & c`.
const AND3: i32 = 0x80;
/// `a | b | c`.
const OR3: i32 = 0xFE;
/// `(a & b) | c`.
const AND_OR: i32 = 0xEA;

#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vpopcntdq,gfni,popcnt")]
fn count_k<const K: usize, const IGN: bool>(
    truth: &[u8],
    pred: &[u8],
    ign: u8,
    out: &mut [u64],
) -> (u64, bool) {
    debug_assert!((1..=MAX_CLASSES).contains(&K));
    let n = truth.len().min(pred.len());
    let full = n - n % BLOCK;
    // SAFETY: each index array is 64 bytes.
    let mut idx = [[_mm512_setzero_si512(); 2]; 3];
    for (v, a) in idx
        .iter_mut()
        .flatten()
        .zip(round_indices().iter().flatten())
    {
        // SAFETY: `a` is 64 bytes.
        *v = unsafe { _mm512_loadu_si512(a.as_ptr().cast()) };
    }
    // Byte `i` of each quadword is `1 << i`: GF2P8AFFINEQB with the data as the matrix then
    // puts bit `i` of the quadword's 8 bytes into byte `i`.
    let bits = _mm512_set1_epi64(0x8040_2010_0804_0201u64 as i64);
    let ign_v = _mm512_set1_epi8(ign as i8);
    let low_nibble = _mm512_set1_epi8(0x0F);
    let high_nibble = _mm512_set1_epi8(0xF0u8 as i8);
    let ones = _mm512_set1_epi8(-1);
    let hi_classes = (K - 1) / 4 + 1;
    let mut acc = [[_mm512_setzero_si512(); K]; K];
    let mut seen = _mm512_setzero_si512();
    let mut ignored = 0u64;
    // Masks of a chunk of blocks, `[block][prediction/truth][class]`, kept in L1 so that the
    // cell loops below hold their accumulators in registers.
    let mut buf = [[[_mm512_setzero_si512(); K]; 2]; CHUNK_BLOCKS];
    let mut i = 0;
    while i < full {
        let blocks = CHUNK_BLOCKS.min((full - i) / BLOCK);
        for (blk, fmo) in buf.iter_mut().enumerate().take(blocks) {
            let at = i + blk * BLOCK;
            let mut w = [_mm512_setzero_si512(); 8];
            for (b, wb) in w.iter_mut().enumerate() {
                // SAFETY: `at + 64 * b + 64 <= full <= n`, the length of both slices.
                let (mut t, mut p) = unsafe {
                    (
                        _mm512_loadu_si512(truth.as_ptr().add(at + 64 * b).cast()),
                        _mm512_loadu_si512(pred.as_ptr().add(at + 64 * b).cast()),
                    )
                };
                if IGN {
                    let m = _mm512_cmpeq_epi8_mask(t, ign_v);
                    ignored += m.count_ones() as u64;
                    t = _mm512_mask_mov_epi8(t, m, low_nibble);
                    p = _mm512_maskz_mov_epi8(!m, p);
                }
                seen = _mm512_ternarylogic_epi64::<OR3>(seen, t, p);
                let code =
                    _mm512_ternarylogic_epi64::<AND_OR>(_mm512_slli_epi16::<4>(t), high_nibble, p);
                *wb = _mm512_gf2p8affine_epi64_epi8::<0>(bits, code);
            }
            // `w[set * groups + g]`: the bits of `set` for pixel group `g`; each round doubles
            // the sets and halves the groups.
            for (round, idx) in idx.iter().enumerate() {
                let groups = 8 >> round;
                let half = groups / 2;
                let mut next = [_mm512_setzero_si512(); 8];
                for set in 0..(1 << round) {
                    for g in 0..half {
                        let (a, b) = (w[set * groups + 2 * g], w[set * groups + 2 * g + 1]);
                        next[2 * set * half + g] = _mm512_permutex2var_epi8(a, idx[0], b);
                        next[(2 * set + 1) * half + g] = _mm512_permutex2var_epi8(a, idx[1], b);
                    }
                }
                w = next;
            }
            // `w[b]` is bit `b` of the code of all 512 pixels; `lit[b][v]` is 1 where bit `b` is `v`.
            let mut lit = [[_mm512_setzero_si512(); 2]; 8];
            for (l, &x) in lit.iter_mut().zip(&w) {
                *l = [_mm512_xor_si512(x, ones), x];
            }
            // Field masks: `fm[0][c]` where the prediction is `c`, `fm[1][c]` where the truth is.
            let mut fm = [[_mm512_setzero_si512(); K]; 2];
            for (f, m) in fm.iter_mut().enumerate() {
                let base = 4 * f;
                let mut hi = [_mm512_setzero_si512(); 4];
                for (h, v) in hi.iter_mut().enumerate().take(hi_classes) {
                    *v = _mm512_and_si512(lit[base + 3][h >> 1], lit[base + 2][h & 1]);
                }
                for (c, v) in m.iter_mut().enumerate() {
                    *v = _mm512_ternarylogic_epi64::<AND3>(
                        hi[c >> 2],
                        lit[base + 1][(c >> 1) & 1],
                        lit[base][c & 1],
                    );
                }
            }
            *fmo = fm;
        }
        let mut r0 = 0;
        while r0 < K {
            let rows = ROWS.min(K - r0);
            let mut part = [[_mm512_setzero_si512(); K]; ROWS];
            for [pm, tm] in &buf[..blocks] {
                for (r, row) in part.iter_mut().enumerate().take(rows) {
                    for (cell, &pv) in row.iter_mut().zip(pm) {
                        let both = _mm512_and_si512(tm[r0 + r], pv);
                        *cell = _mm512_add_epi64(*cell, _mm512_popcnt_epi64(both));
                    }
                }
            }
            for (a, p) in acc[r0..r0 + rows].iter_mut().zip(&part) {
                for (x, &y) in a.iter_mut().zip(p) {
                    *x = _mm512_add_epi64(*x, y);
                }
            }
            r0 += rows;
        }
        i += blocks * BLOCK;
    }
    let mut total = 0u64;
    for (o, a) in out.iter_mut().zip(acc.iter().flatten()) {
        let c = _mm512_reduce_add_epi64(*a) as u64;
        total += c;
        *o += c;
    }
    let mut bad = _mm512_test_epi8_mask(seen, high_nibble) != 0 || total + ignored != full as u64;
    let kb = K as u8;
    for j in full..n {
        let (t, p) = (truth[j], pred[j]);
        if IGN && t == ign {
            ignored += 1;
        } else if t < kb && p < kb {
            out[t as usize * K + p as usize] += 1;
        } else {
            bad = true;
        }
    }
    (ignored, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every round keeps each pixel group at the same position in all planes it carries.
    #[test]
    fn rounds_are_permutations_of_both_inputs() {
        for round in round_indices() {
            for idx in round {
                let mut seen = [false; 128];
                for &i in &idx {
                    assert!(!seen[i as usize]);
                    seen[i as usize] = true;
                }
            }
        }
    }
}
