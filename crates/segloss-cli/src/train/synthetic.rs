//! The built-in synthetic task: aerial-like tiles where small buildings are the rare class.
//!
//! Each tile is drawn, in order, from:
//! 1. textured ground (one of grass / dry grass / soil, two octaves of value noise);
//! 2. dark tree blobs (distractors);
//! 3. zero to two straight gray roads, 3–6 px wide (distractors: some roofs are gray too);
//! 4. rectangular or L-shaped buildings, 4–12 px a side, with red, gray, dark-gray or beige
//!    roofs (a darker half suggests a ridge), placed off the roads and apart from each other,
//!    until a coverage drawn uniformly from `coverage` (default 3–8 % of the pixels) is
//!    reached;
//! 5. their shadows, cast 1–3 px along a sun direction drawn per tile;
//! 6. per-pixel sensor noise.
//!
//! Tile `i` of a split depends only on `(seed, split, i)`, not on how many tiles are drawn,
//! so a validation set is the same whatever the size of the training set.
//!
//! Optional label noise (training split only): each building's label is, with probability
//! `label_noise`, shifted by 1–2 px (misregistration, as with map-derived labels) or, for a
//! quarter of those, left out (a missed annotation). Validation labels are always clean.

use anyhow::{Result, bail};

use super::dataset::{CHANNELS, Tile, TileSet};
use super::rng::SplitMix64;

/// Which split a tile belongs to. Each split draws from its own random stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Training tiles (label noise applies here only).
    Train,
    /// Held-out validation tiles.
    Validation,
}

/// Options of the synthetic task.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    /// Tile side in pixels. Default 64.
    pub size: usize,
    /// Range the target building coverage of a tile is drawn from. Default `(0.03, 0.08)`.
    pub coverage: (f32, f32),
    /// Probability that a training building's label is corrupted. Default 0 (clean).
    pub label_noise: f32,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            size: 64,
            coverage: (0.03, 0.08),
            label_noise: 0.0,
        }
    }
}

/// Smallest tile side that leaves room for buildings.
const MIN_SIZE: usize = 16;

impl SyntheticConfig {
    /// Sets the tile side.
    pub fn with_size(mut self, size: usize) -> Self {
        self.size = size;
        self
    }

    /// Sets the label-noise probability.
    pub fn with_label_noise(mut self, p: f32) -> Self {
        self.label_noise = p;
        self
    }

    /// Validates the options.
    ///
    /// # Errors
    /// A tile side under 16 px, a coverage range outside `(0, 0.5]` or reversed, or a
    /// label-noise probability outside `[0, 1]`.
    pub fn check(&self) -> Result<()> {
        if self.size < MIN_SIZE {
            bail!(
                "tile size: expected at least {MIN_SIZE} px, found {}",
                self.size
            );
        }
        let (lo, hi) = self.coverage;
        if !(lo > 0.0 && lo <= hi && hi <= 0.5) {
            bail!("coverage: expected 0 < low <= high <= 0.5, found ({lo}, {hi})");
        }
        if !(0.0..=1.0).contains(&self.label_noise) {
            bail!(
                "label noise: expected a probability in [0, 1], found {}",
                self.label_noise
            );
        }
        Ok(())
    }

    /// Draws tiles `0..count` of `split` for `seed`.
    ///
    /// # Errors
    /// The options fail [`SyntheticConfig::check`].
    pub fn generate(&self, seed: u64, split: Split, count: usize) -> Result<TileSet> {
        self.check()?;
        let tiles = (0..count)
            .map(|i| self.tile(seed, split, i as u64))
            .collect();
        Ok(TileSet {
            height: self.size,
            width: self.size,
            tiles,
        })
    }

    /// Draws one tile.
    pub fn tile(&self, seed: u64, split: Split, index: u64) -> Tile {
        let stream = match split {
            Split::Train => index * 2,
            Split::Validation => index * 2 + 1,
        };
        let mut rng = SplitMix64::derive(seed, stream);
        let mut canvas = Canvas::new(self.size);
        canvas.ground(&mut rng);
        canvas.trees(&mut rng);
        let road = canvas.roads(&mut rng);
        let buildings = canvas.buildings(&mut rng, &road, self.coverage);
        canvas.shadows(&mut rng, &buildings);
        canvas.noise(&mut rng);
        let noise = match split {
            Split::Train => self.label_noise,
            Split::Validation => 0.0,
        };
        let mask = label(self.size, &buildings, noise, &mut rng);
        Tile {
            image: canvas.into_planar(),
            mask,
        }
    }
}

/// A building footprint: a rectangle, minus a corner rectangle for L-shapes.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    y0: usize,
    x0: usize,
    h: usize,
    w: usize,
    /// For L-shapes: the (height, width) cut from the bottom-right corner.
    cut: Option<(usize, usize)>,
}

impl Footprint {
    fn contains(&self, y: usize, x: usize) -> bool {
        if y < self.y0 || x < self.x0 || y >= self.y0 + self.h || x >= self.x0 + self.w {
            return false;
        }
        match self.cut {
            Some((ch, cw)) => !(y >= self.y0 + self.h - ch && x >= self.x0 + self.w - cw),
            None => true,
        }
    }
}

/// An RGB image being painted, pixel-interleaved while drawing.
struct Canvas {
    size: usize,
    rgb: Vec<[f32; 3]>,
}

impl Canvas {
    fn new(size: usize) -> Self {
        Self {
            size,
            rgb: vec![[0.0; 3]; size * size],
        }
    }

    fn ground(&mut self, rng: &mut SplitMix64) {
        const PALETTE: [[f32; 3]; 3] = [
            [0.30, 0.42, 0.20], // grass
            [0.55, 0.52, 0.36], // dry grass
            [0.46, 0.37, 0.28], // soil
        ];
        let base = PALETTE[rng.range_usize(0, PALETTE.len() - 1)];
        let coarse = value_noise(rng, self.size, 16);
        let fine = value_noise(rng, self.size, 4);
        for (i, px) in self.rgb.iter_mut().enumerate() {
            let t = 0.08 * coarse[i] + 0.04 * fine[i];
            *px = [base[0] + t, base[1] + t, base[2] + 0.7 * t];
        }
    }

    fn trees(&mut self, rng: &mut SplitMix64) {
        let n = rng.range_usize(0, 6 * self.size * self.size / 4096);
        for _ in 0..n {
            let cy = rng.range_f32(0.0, self.size as f32);
            let cx = rng.range_f32(0.0, self.size as f32);
            let r = rng.range_f32(1.5, 4.0);
            let shade = rng.range_f32(0.8, 1.1);
            self.disc(cy, cx, r, [0.14 * shade, 0.24 * shade, 0.11 * shade]);
        }
    }

    fn disc(&mut self, cy: f32, cx: f32, r: f32, color: [f32; 3]) {
        for y in 0..self.size {
            for x in 0..self.size {
                let dy = y as f32 + 0.5 - cy;
                let dx = x as f32 + 0.5 - cx;
                if dy * dy + dx * dx <= r * r {
                    self.rgb[y * self.size + x] = color;
                }
            }
        }
    }

    /// Draws the roads and returns, per pixel, whether it is road (with a 1 px margin).
    fn roads(&mut self, rng: &mut SplitMix64) -> Vec<bool> {
        let s = self.size as f32;
        let mut road = vec![false; self.size * self.size];
        let n = rng.range_usize(0, 2);
        for _ in 0..n {
            // A line through a random point at one of four orientations.
            let angle = [0.0f32, 90.0, 45.0, 135.0][rng.range_usize(0, 3)].to_radians()
                + rng.range_f32(-0.15, 0.15);
            let (py, px) = (
                rng.range_f32(0.2 * s, 0.8 * s),
                rng.range_f32(0.2 * s, 0.8 * s),
            );
            let half = rng.range_f32(1.5, 3.0);
            let gray = rng.range_f32(0.50, 0.62);
            let (ny, nx) = (angle.cos(), -angle.sin());
            for y in 0..self.size {
                for x in 0..self.size {
                    let d = ((y as f32 + 0.5 - py) * ny + (x as f32 + 0.5 - px) * nx).abs();
                    if d <= half {
                        self.rgb[y * self.size + x] = [gray, gray, gray * 1.02];
                    }
                    if d <= half + 1.5 {
                        road[y * self.size + x] = true;
                    }
                }
            }
        }
        road
    }

    fn buildings(
        &mut self,
        rng: &mut SplitMix64,
        road: &[bool],
        coverage: (f32, f32),
    ) -> Vec<Footprint> {
        const ROOFS: [[f32; 3]; 4] = [
            [0.62, 0.30, 0.24], // red tiles
            [0.68, 0.68, 0.66], // light gray
            [0.38, 0.38, 0.41], // dark gray
            [0.74, 0.67, 0.54], // beige
        ];
        let n = self.size;
        let target = rng.range_f32(coverage.0, coverage.1) * (n * n) as f32;
        let mut taken = vec![false; n * n];
        let mut covered = 0usize;
        let mut out = Vec::new();
        for _ in 0..400 {
            if covered as f32 >= target {
                break;
            }
            let h = rng.range_usize(4, 12);
            let w = rng.range_usize(4, 12);
            if h + 2 >= n || w + 2 >= n {
                continue;
            }
            let y0 = rng.range_usize(1, n - h - 1);
            let x0 = rng.range_usize(1, n - w - 1);
            let cut = if rng.chance(0.35) && h >= 6 && w >= 6 {
                Some((rng.range_usize(2, h / 2), rng.range_usize(2, w / 2)))
            } else {
                None
            };
            let fp = Footprint { y0, x0, h, w, cut };
            // Keep a 2 px gap to other buildings, and stay off the roads.
            let clash = (y0.saturating_sub(2)..(y0 + h + 2).min(n)).any(|y| {
                (x0.saturating_sub(2)..(x0 + w + 2).min(n))
                    .any(|x| taken[y * n + x] || (fp.contains(y, x) && road[y * n + x]))
            });
            if clash {
                continue;
            }
            let roof = ROOFS[rng.range_usize(0, ROOFS.len() - 1)];
            let jitter = rng.range_f32(-0.05, 0.05);
            let ridge_vertical = rng.chance(0.5);
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    if !fp.contains(y, x) {
                        continue;
                    }
                    let far_half = if ridge_vertical {
                        x >= x0 + w / 2
                    } else {
                        y >= y0 + h / 2
                    };
                    let shade = if far_half { -0.05 } else { 0.0 };
                    self.rgb[y * n + x] = roof.map(|c| c + jitter + shade);
                    taken[y * n + x] = true;
                    covered += 1;
                }
            }
            out.push(fp);
        }
        out
    }

    fn shadows(&mut self, rng: &mut SplitMix64, buildings: &[Footprint]) {
        let n = self.size as isize;
        let (dy, dx) = [(1isize, 1isize), (1, -1), (-1, 1), (-1, -1)][rng.range_usize(0, 3)];
        let len = rng.range_usize(1, 3) as isize;
        let inside = |y: isize, x: isize| {
            buildings
                .iter()
                .any(|b| y >= 0 && x >= 0 && b.contains(y as usize, x as usize))
        };
        let mut dark = vec![false; self.rgb.len()];
        for b in buildings {
            for y in b.y0..b.y0 + b.h {
                for x in b.x0..b.x0 + b.w {
                    if !b.contains(y, x) {
                        continue;
                    }
                    for k in 1..=len {
                        let (sy, sx) = (y as isize + k * dy, x as isize + k * dx);
                        if sy >= 0 && sx >= 0 && sy < n && sx < n && !inside(sy, sx) {
                            dark[(sy * n + sx) as usize] = true;
                        }
                    }
                }
            }
        }
        for (px, d) in self.rgb.iter_mut().zip(dark) {
            if d {
                *px = px.map(|c| c * 0.55);
            }
        }
    }

    fn noise(&mut self, rng: &mut SplitMix64) {
        for px in &mut self.rgb {
            let common = 0.015 * rng.normal();
            for c in px.iter_mut() {
                *c = (*c + common + 0.01 * rng.normal()).clamp(0.0, 1.0);
            }
        }
    }

    fn into_planar(self) -> Vec<f32> {
        let px = self.size * self.size;
        let mut out = vec![0.0; CHANNELS * px];
        for (i, rgb) in self.rgb.iter().enumerate() {
            for (c, &v) in rgb.iter().enumerate() {
                out[c * px + i] = v;
            }
        }
        out
    }
}

/// Smooth noise in `[-1, 1]`: random values on a grid of `cell` px, bilinearly interpolated.
fn value_noise(rng: &mut SplitMix64, size: usize, cell: usize) -> Vec<f32> {
    let g = size / cell + 2;
    let grid: Vec<f32> = (0..g * g).map(|_| rng.range_f32(-1.0, 1.0)).collect();
    let mut out = vec![0.0; size * size];
    for y in 0..size {
        let fy = y as f32 / cell as f32;
        let (iy, ty) = (fy as usize, fy.fract());
        for x in 0..size {
            let fx = x as f32 / cell as f32;
            let (ix, tx) = (fx as usize, fx.fract());
            let v00 = grid[iy * g + ix];
            let v01 = grid[iy * g + ix + 1];
            let v10 = grid[(iy + 1) * g + ix];
            let v11 = grid[(iy + 1) * g + ix + 1];
            let top = v00 + (v01 - v00) * tx;
            let bottom = v10 + (v11 - v10) * tx;
            out[y * size + x] = top + (bottom - top) * ty;
        }
    }
    out
}

/// The label mask of the buildings, with optional label noise.
fn label(size: usize, buildings: &[Footprint], noise: f32, rng: &mut SplitMix64) -> Vec<u8> {
    let mut mask = vec![0u8; size * size];
    for b in buildings {
        let (mut oy, mut ox) = (0isize, 0isize);
        if noise > 0.0 && rng.chance(noise) {
            if rng.chance(0.25) {
                continue; // a missed annotation
            }
            oy = rng.range_usize(0, 4) as isize - 2;
            ox = rng.range_usize(0, 4) as isize - 2;
        }
        for y in b.y0..b.y0 + b.h {
            for x in b.x0..b.x0 + b.w {
                if !b.contains(y, x) {
                    continue;
                }
                let (ly, lx) = (y as isize + oy, x as isize + ox);
                if ly >= 0 && lx >= 0 && (ly as usize) < size && (lx as usize) < size {
                    mask[ly as usize * size + lx as usize] = 1;
                }
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_independent_of_count() {
        let cfg = SyntheticConfig::default();
        let a = cfg.generate(3, Split::Train, 4).unwrap();
        let b = cfg.generate(3, Split::Train, 9).unwrap();
        assert_eq!(a.tiles[..], b.tiles[..4]);
        let c = cfg.generate(4, Split::Train, 4).unwrap();
        assert_ne!(a.tiles[0], c.tiles[0]);
        let v = cfg.generate(3, Split::Validation, 4).unwrap();
        assert_ne!(a.tiles[0], v.tiles[0]);
        a.check().unwrap();
    }

    #[test]
    fn coverage_is_in_the_advertised_range() {
        let cfg = SyntheticConfig::default();
        let set = cfg.generate(11, Split::Validation, 200).unwrap();
        let f = set.foreground_fraction();
        assert!((0.03..=0.09).contains(&f), "foreground fraction {f}");
        // Almost every tile has some building; none is mostly building.
        let empty = set
            .tiles
            .iter()
            .filter(|t| t.mask.iter().all(|&v| v == 0))
            .count();
        assert!(empty <= 4, "{empty} empty tiles");
        for t in &set.tiles {
            let fg = t.mask.iter().filter(|&&v| v == 1).count() as f64 / 4096.0;
            assert!(fg < 0.2, "tile coverage {fg}");
        }
    }

    #[test]
    fn images_are_in_unit_range_and_not_flat() {
        let cfg = SyntheticConfig::default();
        let t = cfg.tile(1, Split::Train, 0);
        assert!(t.image.iter().all(|v| (0.0..=1.0).contains(v)));
        let mean = t.image.iter().sum::<f32>() / t.image.len() as f32;
        let var = t.image.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / t.image.len() as f32;
        assert!(var > 1e-3, "variance {var}");
    }

    #[test]
    fn label_noise_touches_training_only() {
        let clean = SyntheticConfig::default();
        let noisy = SyntheticConfig::default().with_label_noise(1.0);
        let v0 = clean.generate(5, Split::Validation, 5).unwrap();
        let v1 = noisy.generate(5, Split::Validation, 5).unwrap();
        assert_eq!(v0, v1);
        let t0 = clean.generate(5, Split::Train, 5).unwrap();
        let t1 = noisy.generate(5, Split::Train, 5).unwrap();
        // Same pictures, different labels.
        assert!(
            t0.tiles
                .iter()
                .zip(&t1.tiles)
                .all(|(a, b)| a.image == b.image)
        );
        assert!(
            t0.tiles
                .iter()
                .zip(&t1.tiles)
                .any(|(a, b)| a.mask != b.mask)
        );
    }

    #[test]
    fn bad_options_are_rejected() {
        assert!(SyntheticConfig::default().with_size(8).check().is_err());
        assert!(
            SyntheticConfig::default()
                .with_label_noise(1.5)
                .check()
                .is_err()
        );
    }
}
