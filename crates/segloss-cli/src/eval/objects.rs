//! Object-level scores: connected components matched one-to-one (the SpaceNet convention).
//!
//! For one class (the positive class 1 by default) each mask is split into connected components
//! with **8-connectivity** (diagonal neighbours join). Components smaller than `min_area`
//! pixels are dropped from both masks. A truth component `T` and a predicted component `P`
//! may match when `IoU(T, P) = |T ∩ P| / |T ∪ P| >= iou_threshold`; matches are taken greedily
//! in decreasing IoU order (ties broken by component order, so the result is deterministic),
//! each component matching at most once. With the default threshold 0.5 the matching is unique
//! anyway: two components overlapping one third component by more than half would overlap each
//! other. Then
//!
//! - object TP = matched pairs, object FP = unmatched predicted components,
//!   object FN = unmatched truth components;
//! - object precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2TP / (2TP + FP + FN).
//!
//! Truth pixels marked ignored are background in both masks for this purpose.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::labels::Labels;

/// Settings of the object-level evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ObjectRule {
    /// The class whose components are objects.
    pub class: u32,
    /// Smallest IoU for a match, in (0, 1]. Default 0.5.
    pub iou_threshold: f64,
    /// Components with fewer pixels are dropped. Default 0 (keep all).
    pub min_area: u64,
}

/// Object counts, summed over images (integers, so shards merge exactly).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCounts {
    /// Matched pairs.
    pub tp: u64,
    /// Predicted components without a match.
    pub fp: u64,
    /// Truth components without a match.
    pub fn_: u64,
}

impl ObjectCounts {
    /// Adds another set of counts.
    pub fn add(&mut self, other: &ObjectCounts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }

    /// TP / (TP + FP); 1 when there are no predicted objects and no truth objects, else 0 for 0/0.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp, self.fn_ == 0)
    }

    /// TP / (TP + FN); 1 when there are no truth objects and no predicted objects, else 0 for 0/0.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_, self.fp == 0)
    }

    /// 2TP / (2TP + FP + FN); 1 when both masks hold no objects.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_, true)
    }
}

fn ratio(num: u64, den: u64, empty_is_perfect: bool) -> f64 {
    if den == 0 {
        if empty_is_perfect { 1.0 } else { 0.0 }
    } else {
        num as f64 / den as f64
    }
}

/// Connected components of a binary mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components {
    /// Per pixel: 0 for background, else the component number (1-based).
    pub labels: Vec<u32>,
    /// `areas[c - 1]` is the pixel count of component `c`.
    pub areas: Vec<u64>,
}

/// Labels the 8-connected components of `fg` (`width` pixels per row).
///
/// Two-pass union-find: the first pass links each foreground pixel to its already-visited
/// neighbours (west, north-west, north, north-east), the second resolves every pixel to a
/// dense component number in raster order of first appearance.
pub fn components(fg: &[bool], width: usize) -> Components {
    let n = fg.len();
    let mut provisional = vec![0u32; n];
    let mut parent: Vec<u32> = vec![0];
    for i in 0..n {
        if !fg[i] {
            continue;
        }
        let (x, y) = (i % width, i / width);
        let mut neighbours = [0u32; 4];
        let mut k = 0;
        if x > 0 && fg[i - 1] {
            neighbours[k] = provisional[i - 1];
            k += 1;
        }
        if y > 0 {
            let up = i - width;
            if x > 0 && fg[up - 1] {
                neighbours[k] = provisional[up - 1];
                k += 1;
            }
            if fg[up] {
                neighbours[k] = provisional[up];
                k += 1;
            }
            if x + 1 < width && fg[up + 1] {
                neighbours[k] = provisional[up + 1];
                k += 1;
            }
        }
        if k == 0 {
            let id = parent.len() as u32;
            parent.push(id);
            provisional[i] = id;
        } else {
            let mut root = find(&mut parent, neighbours[0]);
            for &nb in &neighbours[1..k] {
                let r = find(&mut parent, nb);
                if r != root {
                    let (lo, hi) = if r < root { (r, root) } else { (root, r) };
                    parent[hi as usize] = lo;
                    root = lo;
                }
            }
            provisional[i] = root;
        }
    }
    let mut dense = vec![0u32; parent.len()];
    let mut areas = Vec::new();
    for p in provisional.iter_mut() {
        if *p == 0 {
            continue;
        }
        let r = find(&mut parent, *p) as usize;
        if dense[r] == 0 {
            areas.push(0);
            dense[r] = areas.len() as u32;
        }
        *p = dense[r];
        areas[*p as usize - 1] += 1;
    }
    Components {
        labels: provisional,
        areas,
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let next = parent[x as usize];
        parent[x as usize] = parent[next as usize];
        x = next;
    }
    x
}

/// Object counts of one image.
///
/// `ignore` is the truth label that marks ignored pixels.
pub fn count_objects(
    truth: &Labels,
    pred: &Labels,
    width: usize,
    ignore: u64,
    rule: &ObjectRule,
) -> ObjectCounts {
    let n = truth.len();
    let class = rule.class;
    let mut t_fg = Vec::with_capacity(n);
    let mut p_fg = Vec::with_capacity(n);
    for i in 0..n {
        let t = truth.get(i);
        let ignored = u64::from(t) == ignore;
        t_fg.push(!ignored && t == class);
        p_fg.push(!ignored && pred.get(i) == class);
    }
    let tc = components(&t_fg, width);
    let pc = components(&p_fg, width);
    let keep_t: Vec<bool> = tc.areas.iter().map(|&a| a >= rule.min_area).collect();
    let keep_p: Vec<bool> = pc.areas.iter().map(|&a| a >= rule.min_area).collect();
    let mut inter: HashMap<(u32, u32), u64> = HashMap::new();
    for (&a, &b) in tc.labels.iter().zip(&pc.labels) {
        if a != 0 && b != 0 && keep_t[a as usize - 1] && keep_p[b as usize - 1] {
            *inter.entry((a, b)).or_insert(0) += 1;
        }
    }
    let mut candidates: Vec<(f64, u32, u32)> = inter
        .into_iter()
        .filter_map(|((a, b), i)| {
            let union = tc.areas[a as usize - 1] + pc.areas[b as usize - 1] - i;
            let iou = i as f64 / union as f64;
            (iou >= rule.iou_threshold).then_some((iou, a, b))
        })
        .collect();
    candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut used_t = vec![false; tc.areas.len()];
    let mut used_p = vec![false; pc.areas.len()];
    let mut tp = 0u64;
    for (_, a, b) in candidates {
        let (a, b) = (a as usize - 1, b as usize - 1);
        if !used_t[a] && !used_p[b] {
            used_t[a] = true;
            used_p[b] = true;
            tp += 1;
        }
    }
    let kept_t = keep_t.iter().filter(|&&k| k).count() as u64;
    let kept_p = keep_p.iter().filter(|&&k| k).count() as u64;
    ObjectCounts {
        tp,
        fp: kept_p - tp,
        fn_: kept_t - tp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> (Vec<bool>, usize) {
        let w = rows[0].len();
        (
            rows.iter()
                .flat_map(|r| r.chars().map(|c| c == '#'))
                .collect(),
            w,
        )
    }

    fn labels(rows: &[&str]) -> (Labels, usize) {
        let (m, w) = mask(rows);
        (Labels::U8(m.into_iter().map(u8::from).collect()), w)
    }

    const RULE: ObjectRule = ObjectRule {
        class: 1,
        iou_threshold: 0.5,
        min_area: 0,
    };

    #[test]
    fn diagonal_pixels_join_under_8_connectivity() {
        let (m, w) = mask(&["#..#", ".#.#", "...."]);
        let c = components(&m, w);
        assert_eq!(c.areas, vec![2, 2]);
        assert_eq!(c.labels, vec![1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 0, 0]);
    }

    #[test]
    fn u_shape_merges_into_one_component() {
        let (m, w) = mask(&["#.#", "#.#", "###"]);
        let c = components(&m, w);
        assert_eq!(c.areas, vec![7]);
        assert!(c.labels.iter().all(|&l| l <= 1));
    }

    #[test]
    fn components_agree_with_flood_fill_on_random_masks() {
        let mut state = 12345u64;
        for _ in 0..50 {
            let (w, h) = (13, 9);
            let m: Vec<bool> = (0..w * h)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 33) % 3 == 0
                })
                .collect();
            let c = components(&m, w);
            let reference = flood_fill(&m, w, h);
            // Same partition: pixel pairs share a label in one iff they do in the other.
            for i in 0..w * h {
                for j in 0..w * h {
                    assert_eq!(c.labels[i] == c.labels[j], reference[i] == reference[j]);
                }
            }
        }
    }

    fn flood_fill(m: &[bool], w: usize, h: usize) -> Vec<u32> {
        let mut out = vec![0u32; m.len()];
        let mut next = 0;
        for s in 0..m.len() {
            if !m[s] || out[s] != 0 {
                continue;
            }
            next += 1;
            let mut stack = vec![s];
            out[s] = next;
            while let Some(i) = stack.pop() {
                let (x, y) = ((i % w) as i64, (i / w) as i64);
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (nx, ny) = (x + dx, y + dy);
                        if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                            continue;
                        }
                        let j = ny as usize * w + nx as usize;
                        if m[j] && out[j] == 0 {
                            out[j] = next;
                            stack.push(j);
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn spacenet_matching_counts() {
        // Truth: two buildings. Prediction: one matches the first (IoU 3/5), one barely
        // overlaps the second (IoU 1/4), and one false alarm.
        let (t, w) = labels(&["##....##", "##....##", "........", "........"]);
        let (p, _) = labels(&["###....#", "#.......", "........", "..##...."]);
        let c = count_objects(&t, &p, w, 255, &RULE);
        assert_eq!(
            c,
            ObjectCounts {
                tp: 1,
                fp: 2,
                fn_: 1
            }
        );
        assert_eq!(c.precision(), 1.0 / 3.0);
        assert_eq!(c.recall(), 0.5);
        assert_eq!(c.f1(), 2.0 / 5.0);
    }

    #[test]
    fn min_area_drops_small_components_from_both() {
        let (t, w) = labels(&["#...##", "....##"]);
        let (p, _) = labels(&["...###", "....##"]);
        let rule = ObjectRule {
            min_area: 2,
            ..RULE
        };
        // Truth's single pixel is dropped; the 4-pixel block matches the 5-pixel one (IoU 0.8).
        assert_eq!(
            count_objects(&t, &p, w, 255, &rule),
            ObjectCounts {
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(
            count_objects(&t, &p, w, 255, &RULE),
            ObjectCounts {
                tp: 1,
                fp: 0,
                fn_: 1
            }
        );
    }

    #[test]
    fn ignored_truth_pixels_are_background_in_both() {
        let t = Labels::U8(vec![255, 255, 0, 1]);
        let p = Labels::U8(vec![1, 1, 0, 1]);
        assert_eq!(
            count_objects(&t, &p, 2, 255, &RULE),
            ObjectCounts {
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
    }

    #[test]
    fn empty_masks_score_one() {
        let c = ObjectCounts::default();
        assert_eq!((c.precision(), c.recall(), c.f1()), (1.0, 1.0, 1.0));
    }
}
