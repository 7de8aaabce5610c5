//! Overlay pictures: where the model is right and where it fails, one PNG per image.
//!
//! Class 0 is background; any other class is foreground. Each pixel is painted with a colour
//! of the Okabe–Ito palette (readable with the common colour-vision deficiencies):
//!
//! | pixel | truth | prediction | colour |
//! |---|---|---|---|
//! | true negative | background | background | black `#000000` |
//! | true positive | class c ≠ 0 | c | bluish green `#009E73` |
//! | false positive | background | foreground | vermillion `#D55E00` |
//! | false negative | foreground | background | sky blue `#56B4E9` |
//! | wrong class (multi-class only) | class c ≠ 0 | another foreground class | yellow `#F0E442` |
//! | ignored | the ignore value | any | grey `#808080` |

use std::io::Write;

use anyhow::{Context, Result};

use super::labels::Labels;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Colour of a true negative.
pub const TN: Rgb = [0x00, 0x00, 0x00];
/// Colour of a true positive.
pub const TP: Rgb = [0x00, 0x9E, 0x73];
/// Colour of a false positive.
pub const FP: Rgb = [0xD5, 0x5E, 0x00];
/// Colour of a false negative.
pub const FN: Rgb = [0x56, 0xB4, 0xE9];
/// Colour of a foreground pixel predicted as another foreground class.
pub const WRONG_CLASS: Rgb = [0xF0, 0xE4, 0x42];
/// Colour of an ignored pixel.
pub const IGNORED: Rgb = [0x80, 0x80, 0x80];

/// The colour of one pixel.
pub fn colour(truth: u32, pred: u32, ignore: u32) -> Rgb {
    match (truth, pred) {
        (t, _) if t == ignore => IGNORED,
        (0, 0) => TN,
        (0, _) => FP,
        (_, 0) => FN,
        (t, p) if t == p => TP,
        _ => WRONG_CLASS,
    }
}

/// RGB bytes of the overlay of `pred` over `truth`.
pub fn render(truth: &Labels, pred: &Labels) -> Vec<u8> {
    let ignore = truth.ignore_label() as u32;
    let mut out = Vec::with_capacity(truth.len() * 3);
    for i in 0..truth.len() {
        out.extend_from_slice(&colour(truth.get(i), pred.get(i), ignore));
    }
    out
}

/// Writes the overlay as an 8-bit RGB PNG to `w`.
///
/// # Errors
/// Writing fails.
pub fn write_png<W: Write>(w: W, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    let mut enc = png::Encoder::new(w, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().context("cannot write PNG header")?;
    writer
        .write_image_data(rgb)
        .context("cannot write PNG data")?;
    writer.finish().context("cannot finish PNG")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_has_its_colour() {
        let truth = Labels::U8(vec![0, 1, 0, 1, 2, 255]);
        let pred = Labels::U8(vec![0, 1, 1, 0, 1, 1]);
        let rgb = render(&truth, &pred);
        let px: Vec<Rgb> = rgb.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
        assert_eq!(px, vec![TN, TP, FP, FN, WRONG_CLASS, IGNORED]);
        let all = [TN, TP, FP, FN, WRONG_CLASS, IGNORED];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn written_png_decodes_to_the_same_pixels() {
        let rgb: Vec<u8> = [TP, FN, FP, TN].concat();
        let mut buf = Vec::new();
        write_png(&mut buf, 2, 2, &rgb).unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(buf));
        let mut r = dec.read_info().unwrap();
        let mut out = vec![0; r.output_buffer_size().unwrap()];
        r.next_frame(&mut out).unwrap();
        assert_eq!(out, rgb);
    }
}
