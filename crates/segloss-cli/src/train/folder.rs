//! `--data DIR`: a real folder of image/mask pairs instead of the synthetic task.
//!
//! Layout: `DIR/images/**` and `DIR/masks/**`, PNG or TIFF, paired by relative path and file
//! stem (`images/a/tile_1.png` ↔ `masks/a/tile_1.tif`) by `segloss eval`'s pairing rules.
//! Masks are binary: any nonzero value is foreground (0/1 and 0/255 both work). Images are read as 8-bit RGB (gray is repeated).
//! Each image is cut into non-overlapping `tile × tile` crops (the remainder at the right and
//! bottom edges is dropped). Whole images, not crops, go to the validation split, chosen by a
//! seeded hash of the relative path, so crops of one image never straddle the split.
//!
//! Files without a partner (an image without a mask, a mask without an image, or two files
//! claiming one key such as `a.png` and `a.tif`) are an error naming them, because a training
//! set that silently lost some of its images is hard to notice later; with
//! [`Unmatched::Skip`] (`--unmatched skip`) they are left out, listed on stderr and in
//! `metrics.json`.

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

/// What to do with files that have no partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Unmatched {
    /// Stop with an error naming them (the default).
    Fail,
    /// Leave them out and list them.
    Skip,
}

/// What `load` found.
pub struct Loaded {
    /// Training crops.
    pub train: TileSet,
    /// Validation crops.
    pub val: TileSet,
    /// Image/mask pairs read.
    pub pairs: usize,
    /// Keys (relative path without extension) of the images held out for validation, sorted.
    pub val_images: Vec<String>,
    /// Images without a mask (or masks without an image, or ambiguous names), by relative
    /// path.
    pub unmatched: Vec<String>,
}

/// Loads `dir` (see the module docs) into training and validation crops.
///
/// # Errors
/// Missing `images/` or `masks/`, files without a partner (with [`Unmatched::Fail`]), no
/// pairs, an unreadable file, an image and mask of different sizes, a validation fraction
/// outside `[0, 1]`, images smaller than one tile, or an empty split.
pub fn load(
    dir: &Path,
    tile: usize,
    val_fraction: f64,
    seed: u64,
    on_unmatched: Unmatched,
) -> Result<Loaded> {
    if !(0.0..=1.0).contains(&val_fraction) {
        bail!("validation fraction: expected a value in [0, 1], found {val_fraction}");
    }
    if !dir.is_dir() {
        bail!(
            "{}: expected a folder holding images/ and masks/, found none",
            dir.display()
        );
    }
    let (images, masks) = (dir.join("images"), dir.join("masks"));
    for d in [&images, &masks] {
        if !d.is_dir() {
            bail!("{}: expected a folder, found none", d.display());
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
    if on_unmatched == Unmatched::Fail && !unmatched.is_empty() {
        const SHOWN: usize = 5;
        let mut list = unmatched[..unmatched.len().min(SHOWN)].join(", ");
        if unmatched.len() > SHOWN {
            list += &format!(" and {} more", unmatched.len() - SHOWN);
        }
        bail!(
            "{}: {} file(s) without a partner (an image needs a mask with the same relative \
             path and stem, and the reverse): {list}; add them, remove them, or pass \
             --unmatched skip",
            dir.display(),
            unmatched.len()
        );
    }
    let mut train = TileSet {
        height: tile,
        width: tile,
        tiles: Vec::new(),
    };
    let mut val = train.clone();
    let mut pairs = 0;
    let mut val_images = Vec::new();
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
        let target = if to_val {
            val_images.push(p.key.clone());
            &mut val
        } else {
            &mut train
        };
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
            "{}: no image/mask pairs (PNG or TIFF files under images/ and masks/; {} file(s) \
             without a partner)",
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
        val_images,
        unmatched,
    })
}
