//! `--data DIR`: a real folder of image/mask pairs instead of the synthetic task.
//!
//! Layout: `DIR/images/**` and `DIR/masks/**`, PNG or TIFF, paired by relative path and file
//! stem (`images/a/tile_1.png` ↔ `masks/a/tile_1.tif`) by `segloss eval`'s pairing rules.
//! Masks are binary: any nonzero value is foreground (0/1 and 0/255 both work). Images are read as 8-bit RGB (gray is repeated).
//! Each image is cut into non-overlapping `tile × tile` crops (the remainder at the right and
//! bottom edges is dropped). Whole images, not crops, go to the validation split, chosen by a
//! seeded hash of the relative path, so crops of one image never straddle the split.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::dataset::{CHANNELS, Tile, TileSet};
use super::rng::SplitMix64;
use crate::eval::pairing::pair;

/// An RGB image in `[0, 1]`, planar, with its size.
pub struct Rgb {
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// `3×H×W` values in `[0, 1]`.
    pub data: Vec<f32>,
}

/// Reads an image file as planar RGB in `[0, 1]`.
///
/// # Errors
/// The file cannot be read or decoded; the error names the file.
pub fn read_rgb(path: &Path) -> Result<Rgb> {
    let img = image::ImageReader::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("reading {}", path.display()))?
        .decode()
        .with_context(|| format!("decoding {}", path.display()))?
        .to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = w * h;
    let mut data = vec![0.0f32; CHANNELS * px];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..CHANNELS {
            data[c * px + i] = f32::from(p.0[c]) / 255.0;
        }
    }
    Ok(Rgb {
        height: h,
        width: w,
        data,
    })
}

/// Reads a mask file: nonzero = 1.
///
/// # Errors
/// The file cannot be read or decoded; the error names the file.
pub fn read_mask(path: &Path) -> Result<(usize, usize, Vec<u8>)> {
    let img = image::ImageReader::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("reading {}", path.display()))?
        .decode()
        .with_context(|| format!("decoding {}", path.display()))?
        .to_luma16();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Ok((h, w, img.pixels().map(|p| u8::from(p.0[0] != 0)).collect()))
}

/// What `load` found.
pub struct Loaded {
    /// Training crops.
    pub train: TileSet,
    /// Validation crops.
    pub val: TileSet,
    /// Image/mask pairs read.
    pub pairs: usize,
    /// Images without a mask (or masks without an image, or ambiguous names), by relative
    /// path.
    pub unmatched: Vec<String>,
}

/// Loads `dir` (see the module docs) into training and validation crops.
///
/// # Errors
/// Missing `images/` or `masks/`, no pairs, an unreadable file, an image and mask of
/// different sizes, images smaller than one tile, or an empty split.
pub fn load(dir: &Path, tile: usize, val_fraction: f64, seed: u64) -> Result<Loaded> {
    let (images, masks) = (dir.join("images"), dir.join("masks"));
    for (d, what) in [(&images, "images/"), (&masks, "masks/")] {
        if !d.is_dir() {
            bail!("{}: expected a {what} folder", dir.display());
        }
    }
    let pairing = pair(&images, "", &masks, "")?;
    let mut unmatched: Vec<String> = pairing
        .unmatched_pred
        .iter()
        .map(|r| format!("images/{r}"))
        .chain(pairing.unmatched_truth.iter().map(|r| format!("masks/{r}")))
        .chain(
            pairing
                .ambiguous
                .iter()
                .map(|(k, _)| format!("{k} (ambiguous)")),
        )
        .collect();
    unmatched.sort();
    let mut train = TileSet {
        height: tile,
        width: tile,
        tiles: Vec::new(),
    };
    let mut val = train.clone();
    let mut pairs = 0;
    for p in &pairing.pairs {
        let (img_path, mask_path) = (&p.pred, &p.truth);
        let img = read_rgb(img_path)?;
        let (mh, mw, mask) = read_mask(mask_path)?;
        if (mh, mw) != (img.height, img.width) {
            bail!(
                "{} is {}×{} but its mask {} is {}×{}",
                img_path.display(),
                img.width,
                img.height,
                mask_path.display(),
                mw,
                mh
            );
        }
        pairs += 1;
        let hash = p
            .key
            .bytes()
            .fold(seed, |h, b| SplitMix64::new(h ^ u64::from(b)).next_u64());
        let to_val = (hash >> 11) as f64 / (1u64 << 53) as f64 <= val_fraction;
        let target = if to_val { &mut val } else { &mut train };
        let px = img.height * img.width;
        for ty in 0..img.height / tile {
            for tx in 0..img.width / tile {
                let mut image = Vec::with_capacity(CHANNELS * tile * tile);
                for c in 0..CHANNELS {
                    for y in ty * tile..(ty + 1) * tile {
                        let row = c * px + y * img.width + tx * tile;
                        image.extend_from_slice(&img.data[row..row + tile]);
                    }
                }
                let mut m = Vec::with_capacity(tile * tile);
                for y in ty * tile..(ty + 1) * tile {
                    let row = y * img.width + tx * tile;
                    m.extend_from_slice(&mask[row..row + tile]);
                }
                target.tiles.push(Tile { image, mask: m });
            }
        }
    }
    if pairs == 0 {
        bail!(
            "{}: no image/mask pairs ({} files without a partner)",
            dir.display(),
            unmatched.len()
        );
    }
    if train.tiles.is_empty() || val.tiles.is_empty() {
        bail!(
            "{}: {} training and {} validation crops of {tile}×{tile}; need at least one of each \
             (more images, a smaller --tile-size, or another --val-fraction)",
            dir.display(),
            train.tiles.len(),
            val.tiles.len()
        );
    }
    Ok(Loaded {
        train,
        val,
        pairs,
        unmatched,
    })
}
