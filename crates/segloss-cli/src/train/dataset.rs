//! Tiles (an RGB image and its binary mask) and batches of them, as the model sees them.

use anyhow::{Result, bail};

/// One training or validation example.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// RGB in `[0, 1]`, planar (`3×H×W`): the layout the network takes.
    pub image: Vec<f32>,
    /// The truth, one byte per pixel (`H×W`): 1 = foreground (building), 0 = background.
    pub mask: Vec<u8>,
}

/// A set of tiles that all have the same size.
#[derive(Debug, Clone, PartialEq)]
pub struct TileSet {
    /// Tile height in pixels.
    pub height: usize,
    /// Tile width in pixels.
    pub width: usize,
    /// The tiles.
    pub tiles: Vec<Tile>,
}

/// Number of input channels the network takes (RGB).
pub const CHANNELS: usize = 3;

/// Maps an intensity in `[0, 1]` to the network's input scale, roughly zero-mean and unit
/// variance: `(v - 0.5) · 4`. Training and `segloss predict` both go through here, so a tile
/// saved as PNG and predicted later is seen exactly as it was in training (up to 8-bit
/// rounding).
pub fn normalize(v: f32) -> f32 {
    (v - 0.5) * 4.0
}

impl TileSet {
    /// Pixels per tile.
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Checks that every tile has the declared size and a 0/1 mask.
    ///
    /// # Errors
    /// Names the first tile that does not fit.
    pub fn check(&self) -> Result<()> {
        let px = self.pixels();
        for (i, t) in self.tiles.iter().enumerate() {
            if t.image.len() != CHANNELS * px || t.mask.len() != px {
                bail!(
                    "tile {i}: expected {CHANNELS}×{}×{} image and {}×{} mask, found {} and {} values",
                    self.height,
                    self.width,
                    self.height,
                    self.width,
                    t.image.len(),
                    t.mask.len()
                );
            }
            if let Some(v) = t.mask.iter().find(|&&v| v > 1) {
                bail!("tile {i}: mask values must be 0 or 1, found {v}");
            }
        }
        Ok(())
    }

    /// Fraction of foreground pixels over all tiles (accumulated in `u64`).
    pub fn foreground_fraction(&self) -> f64 {
        let fg: u64 = self
            .tiles
            .iter()
            .map(|t| t.mask.iter().map(|&v| u64::from(v)).sum::<u64>())
            .sum();
        let total = (self.tiles.len() * self.pixels()) as u64;
        if total == 0 {
            0.0
        } else {
            fg as f64 / total as f64
        }
    }

    /// The normalized inputs (`B×3×H×W`) and float targets (`B×1×H×W`) of the tiles at
    /// `indices`, flattened in row-major order.
    pub fn batch(&self, indices: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let px = self.pixels();
        let mut x = Vec::with_capacity(indices.len() * CHANNELS * px);
        let mut y = Vec::with_capacity(indices.len() * px);
        for &i in indices {
            let t = &self.tiles[i];
            x.extend(t.image.iter().map(|&v| normalize(v)));
            y.extend(t.mask.iter().map(|&v| f32::from(v)));
        }
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> TileSet {
        TileSet {
            height: 2,
            width: 2,
            tiles: vec![
                Tile {
                    image: vec![0.5; 12],
                    mask: vec![1, 0, 0, 0],
                },
                Tile {
                    image: vec![1.0; 12],
                    mask: vec![1, 1, 0, 0],
                },
            ],
        }
    }

    #[test]
    fn batch_layout_and_normalization() {
        let s = set();
        let (x, y) = s.batch(&[1, 0]);
        assert_eq!(x.len(), 24);
        assert_eq!(x[0], 2.0);
        assert_eq!(x[12], 0.0);
        assert_eq!(y, vec![1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        assert!((s.foreground_fraction() - 3.0 / 8.0).abs() < 1e-12);
    }

    #[test]
    fn check_rejects_bad_mask() {
        let mut s = set();
        s.check().unwrap();
        s.tiles[1].mask[3] = 255;
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("tile 1") && err.contains("255"), "{err}");
    }
}
