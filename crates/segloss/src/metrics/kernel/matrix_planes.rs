//! AVX-512 bit-plane kernel for the multi-class `u8` confusion matrix (`k ≤ 15`).
//!
//! Why bit planes: counting cell `(i, j)` with byte compares costs one compare per cell per
//! 64 pixels, and on Intel every mask compare runs on one port. Here each pixel becomes the
//! code `t·16 + p` (one byte), a `GF2P8AFFINEQB` transposes each 8×8 bit block so that a
//! byte holds one bit of 8 pixels, and three rounds of shift-and-select byte swaps gather
//! the 512 pixels of eight vectors into eight registers, one per code bit (`VPERMT2B` would
//! do the same in fewer instructions, but each takes two cycles of the one shuffle port that
//! `VPOPCNTQ` also needs). The truth field's bit planes decode (`VPTERNLOG`, a three-input
//! AND of plane literals) into one 512-bit mask `T_i` per class, the prediction field's into
//! `P_j`, and cell `(i, j)` gains `popcount(T_i & P_j)` (`VPOPCNTQ`): three vector
//! instructions per cell per 512 pixels instead of one compare per cell per 64.
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

/// One transpose round: swaps the bytes of `x` at indices with bit `S/8` set with the bytes
/// of `y` at indices with that bit clear, in every quadword (`low` selects the latter).
#[target_feature(enable = "avx512f")]
#[inline]
fn swap_bytes<const S: u32>(x: __m512i, y: __m512i, low: __m512i) -> (__m512i, __m512i) {
    (
        _mm512_ternarylogic_epi64::<SELECT>(x, low, _mm512_slli_epi64::<S>(y)),
        _mm512_ternarylogic_epi64::<SELECT>(_mm512_srli_epi64::<S>(x), low, y),
    )
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
/// `b ? a : c`.
const SELECT: i32 = 0xE2;
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
    // Bytes of each quadword whose index has bit 2, 1, 0 clear.
    let low = [
        _mm512_set1_epi64(0x0000_0000_FFFF_FFFF),
        _mm512_set1_epi64(0x0000_FFFF_0000_FFFF),
        _mm512_set1_epi64(0x00FF_00FF_00FF_00FF),
    ];
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
            // Byte transpose across the eight vectors within each quadword (three rounds of
            // swaps, shifts and selects: no shuffle-port work): afterwards byte `8q + v` of
            // `w[b]` is bit `b` of pixel group `(v, q)`, the same group for every `b`.
            (w[0], w[4]) = swap_bytes::<32>(w[0], w[4], low[0]);
            (w[1], w[5]) = swap_bytes::<32>(w[1], w[5], low[0]);
            (w[2], w[6]) = swap_bytes::<32>(w[2], w[6], low[0]);
            (w[3], w[7]) = swap_bytes::<32>(w[3], w[7], low[0]);
            (w[0], w[2]) = swap_bytes::<16>(w[0], w[2], low[1]);
            (w[1], w[3]) = swap_bytes::<16>(w[1], w[3], low[1]);
            (w[4], w[6]) = swap_bytes::<16>(w[4], w[6], low[1]);
            (w[5], w[7]) = swap_bytes::<16>(w[5], w[7], low[1]);
            (w[0], w[1]) = swap_bytes::<8>(w[0], w[1], low[2]);
            (w[2], w[3]) = swap_bytes::<8>(w[2], w[3], low[2]);
            (w[4], w[5]) = swap_bytes::<8>(w[4], w[5], low[2]);
            (w[6], w[7]) = swap_bytes::<8>(w[6], w[7], low[2]);
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
            for (blk, [pm, tm]) in buf[..blocks].iter().enumerate() {
                // The cell passes read no memory, so they fetch the next chunk meanwhile
                // (the hardware prefetcher only runs ahead of demand loads).
                let next = i + (blocks + blk) * BLOCK;
                if r0 == 0 && next + BLOCK <= full {
                    for line in (0..BLOCK).step_by(64) {
                        // SAFETY: `next + line < full <= n`, inside both slices; a prefetch
                        // has no other effect.
                        unsafe {
                            _mm_prefetch::<_MM_HINT_T0>(truth.as_ptr().add(next + line).cast());
                            _mm_prefetch::<_MM_HINT_T0>(pred.as_ptr().add(next + line).cast());
                        }
                    }
                }
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
