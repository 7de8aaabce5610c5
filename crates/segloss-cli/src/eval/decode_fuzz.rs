//! Property tests of the decoding path on hostile bytes: random data, truncated files and
//! corrupted files must give an error or a raster, never a panic or an oversized allocation.

use std::io::Cursor;

use proptest::prelude::*;

use super::decode::{DecodeLimits, decode};
use super::labels::{Encoding, LabelRule, Side};

/// A small limit so a corrupted header cannot make a test allocate much.
const LIMITS: DecodeLimits = DecodeLimits {
    max_pixels: 1 << 16,
};

fn valid_png(w: u32, h: u32, color: png::ColorType, depth: png::BitDepth, seed: u8) -> Vec<u8> {
    let samples = match color {
        png::ColorType::Rgb => 3,
        png::ColorType::GrayscaleAlpha => 2,
        _ => 1,
    };
    let row = (w as usize * samples * depth as usize).div_ceil(8);
    let data: Vec<u8> = (0..row * h as usize)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        if color == png::ColorType::Indexed {
            enc.set_palette(vec![7u8; 3 << depth as usize]);
        }
        let mut wr = enc.write_header().expect("header");
        wr.write_image_data(&data).expect("data");
    }
    out
}

fn valid_tiff(w: u32, h: u32, kind: u8) -> Vec<u8> {
    use tiff::encoder::{TiffEncoder, colortype};
    let n = (w * h) as usize;
    let mut buf = Cursor::new(Vec::new());
    let mut enc = TiffEncoder::new(&mut buf).expect("encoder");
    match kind % 3 {
        0 => enc.write_image::<colortype::Gray8>(w, h, &vec![1u8; n]),
        1 => enc.write_image::<colortype::Gray16>(w, h, &vec![1u16; n]),
        _ => enc.write_image::<colortype::Gray32Float>(w, h, &vec![0.5f32; n]),
    }
    .expect("image");
    buf.into_inner()
}

fn valid_file() -> impl Strategy<Value = Vec<u8>> {
    let pngs = (1u32..20, 1u32..20, 0usize..5, any::<u8>()).prop_map(|(w, h, c, seed)| {
        let (color, depth) = [
            (png::ColorType::Grayscale, png::BitDepth::Eight),
            (png::ColorType::Grayscale, png::BitDepth::Sixteen),
            (png::ColorType::Grayscale, png::BitDepth::One),
            (png::ColorType::Indexed, png::BitDepth::Four),
            (png::ColorType::Rgb, png::BitDepth::Eight),
        ][c];
        valid_png(w, h, color, depth, seed)
    });
    let tiffs = (1u32..20, 1u32..20, any::<u8>()).prop_map(|(w, h, k)| valid_tiff(w, h, k));
    prop_oneof![pngs, tiffs]
}

/// Decodes and, on success, runs every label rule: none may panic.
fn exercise(bytes: &[u8]) {
    if let Ok(r) = decode(Cursor::new(bytes), &LIMITS) {
        assert_eq!(r.samples.len(), r.width as usize * r.height as usize);
        for encoding in [
            Encoding::Binary,
            Encoding::Threshold(0.5),
            Encoding::Classes(3),
        ] {
            for side in [Side::Pred, Side::Truth] {
                let rule = LabelRule {
                    encoding,
                    ignore: Some(255),
                };
                let _ = rule.convert(r.clone(), side);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(
        prefix in prop_oneof![
            Just(b"\x89PNG\r\n\x1a\n".to_vec()),
            Just(b"II*\0".to_vec()),
            Just(b"MM\0*".to_vec()),
            Just(Vec::new()),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = prefix;
        bytes.extend(tail);
        exercise(&bytes);
    }

    #[test]
    fn truncated_files_never_panic(file in valid_file(), cut in any::<prop::sample::Index>()) {
        let at = cut.index(file.len());
        exercise(&file[..at]);
    }

    #[test]
    fn corrupted_files_never_panic(
        file in valid_file(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = file;
        for (i, v) in flips {
            let at = i.index(bytes.len());
            bytes[at] = v;
        }
        exercise(&bytes);
    }
}

#[test]
fn valid_files_decode() {
    for bytes in [
        valid_png(5, 3, png::ColorType::Grayscale, png::BitDepth::Eight, 1),
        valid_png(5, 3, png::ColorType::Indexed, png::BitDepth::Four, 1),
        valid_tiff(4, 2, 0),
        valid_tiff(4, 2, 2),
    ] {
        assert!(decode(Cursor::new(&bytes), &LIMITS).is_ok());
    }
}
