//! Object-level scores for building-style tasks: connected components matched one-to-one.
//!
//! Components are 8-connected groups of foreground pixels. A predicted and a true component
//! match when their IoU is at least the threshold (0.5: the SpaceNet convention); matching is
//! greedy by decreasing IoU and one-to-one. Above 0.5 a component can overlap at most one
//! other that much, so there the greedy matching is the unique one.

use std::collections::HashMap;

/// Matched and total object counts, summed over images (`u64`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectCounts {
    /// Predicted components matched to a true one.
    pub matched: u64,
    /// Predicted components.
    pub predicted: u64,
    /// True components.
    pub truth: u64,
}

impl ObjectCounts {
    /// Adds another image's counts.
    pub fn add(&mut self, other: ObjectCounts) {
        self.matched += other.matched;
        self.predicted += other.predicted;
        self.truth += other.truth;
    }

    /// Object precision `matched / predicted`; `None` when nothing was predicted.
    pub fn precision(&self) -> Option<f64> {
        (self.predicted > 0).then(|| self.matched as f64 / self.predicted as f64)
    }

    /// Object recall `matched / truth`; `None` when there is nothing to find.
    pub fn recall(&self) -> Option<f64> {
        (self.truth > 0).then(|| self.matched as f64 / self.truth as f64)
    }

    /// Object F1 `2·matched / (predicted + truth)`; 1 when both are empty (they agree).
    pub fn f1(&self) -> f64 {
        let d = self.predicted + self.truth;
        if d == 0 {
            1.0
        } else {
            2.0 * self.matched as f64 / d as f64
        }
    }
}

/// Labels the 8-connected components of `mask != 0` (`height×width`, row-major).
///
/// Returns one label per pixel (0 = background, components numbered from 1) and the number
/// of components.
pub fn components(mask: &[u8], height: usize, width: usize) -> (Vec<u32>, u32) {
    debug_assert_eq!(mask.len(), height * width);
    let mut labels = vec![0u32; mask.len()];
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if mask[start] == 0 || labels[start] != 0 {
            continue;
        }
        next += 1;
        labels[start] = next;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (y, x) = (i / width, i % width);
            for dy in [-1isize, 0, 1] {
                for dx in [-1isize, 0, 1] {
                    let (ny, nx) = (y as isize + dy, x as isize + dx);
                    if ny < 0 || nx < 0 || ny >= height as isize || nx >= width as isize {
                        continue;
                    }
                    let j = ny as usize * width + nx as usize;
                    if mask[j] != 0 && labels[j] == 0 {
                        labels[j] = next;
                        stack.push(j);
                    }
                }
            }
        }
    }
    (labels, next)
}

/// Matches the components of `pred` and `truth` (both `height×width`, nonzero = foreground)
/// at `IoU ≥ iou_threshold`.
pub fn match_objects(
    pred: &[u8],
    truth: &[u8],
    height: usize,
    width: usize,
    iou_threshold: f64,
) -> ObjectCounts {
    let (pl, np) = components(pred, height, width);
    let (tl, nt) = components(truth, height, width);
    let mut area_p = vec![0u64; np as usize + 1];
    let mut area_t = vec![0u64; nt as usize + 1];
    let mut inter: HashMap<(u32, u32), u64> = HashMap::new();
    for (&p, &t) in pl.iter().zip(&tl) {
        area_p[p as usize] += 1;
        area_t[t as usize] += 1;
        if p != 0 && t != 0 {
            *inter.entry((p, t)).or_default() += 1;
        }
    }
    let mut pairs: Vec<(f64, u32, u32)> = inter
        .into_iter()
        .map(|((p, t), i)| {
            let union = area_p[p as usize] + area_t[t as usize] - i;
            (i as f64 / union as f64, p, t)
        })
        .filter(|&(iou, _, _)| iou >= iou_threshold)
        .collect();
    // Decreasing IoU; ties broken by label so the result does not depend on hash order.
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_p = vec![false; np as usize + 1];
    let mut used_t = vec![false; nt as usize + 1];
    let mut matched = 0u64;
    for (_, p, t) in pairs {
        if !used_p[p as usize] && !used_t[t as usize] {
            used_p[p as usize] = true;
            used_t[t as usize] = true;
            matched += 1;
        }
    }
    ObjectCounts {
        matched,
        predicted: u64::from(np),
        truth: u64::from(nt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&str]) -> Vec<u8> {
        rows.iter()
            .flat_map(|r| r.bytes().map(|b| u8::from(b == b'#')))
            .collect()
    }

    #[test]
    fn eight_connectivity_joins_diagonals() {
        let m = grid(&["#..", ".#.", "..#", "#.."]);
        let (_, n) = components(&m, 4, 3);
        assert_eq!(n, 2);
    }

    #[test]
    fn matching_at_half_iou() {
        let truth = grid(&["##....", "##....", "......", "....##", "....##"]);
        // First object exact; second overlaps its truth by 1 px of 6 (IoU 1/6 < 0.5), so it is unmatched.
        let pred = grid(&["##....", "##...#", ".....#", ".....#", "......"]);
        let c = match_objects(&pred, &truth, 5, 6, 0.5);
        assert_eq!(
            c,
            ObjectCounts {
                matched: 1,
                predicted: 2,
                truth: 2
            }
        );
        assert_eq!(c.f1(), 0.5);
        assert_eq!(c.precision(), Some(0.5));
    }

    #[test]
    fn empty_masks_agree() {
        let z = vec![0u8; 9];
        let c = match_objects(&z, &z, 3, 3, 0.5);
        assert_eq!(c.f1(), 1.0);
        assert_eq!(c.precision(), None);
    }
}
