//! Reading mask files: PNG (gray 1–16 bit, palette) and TIFF (8/16-bit unsigned, 32-bit float).
//!
//! The format is chosen from the file's magic bytes, never from its extension. Each decoder
//! reads the header first and refuses an image whose declared size exceeds
//! [`DecodeLimits::max_pixels`] *before* any pixel buffer is allocated, so a tiny file that
//! declares a 100 000 × 100 000 image (a decompression bomb) costs nothing.
//!
//! PNG goes through the `png` crate directly rather than `image`: `image` expands palettes to
//! RGB, which loses the class index a palette mask stores.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

/// Limits applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest number of pixels (width × height) an image may declare.
    pub max_pixels: u64,
}

impl DecodeLimits {
    /// Default pixel limit: 2^28 (16384 × 16384), about 268 M pixels.
    pub const DEFAULT_MAX_PIXELS: u64 = 1 << 28;
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: Self::DEFAULT_MAX_PIXELS,
        }
    }
}

/// How the samples of a decoded raster are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// Gray levels of the given bit depth (1, 2, 4, 8 or 16); the largest level is `2^bits - 1`.
    Gray {
        /// Bits per sample in the file.
        bits: u8,
    },
    /// Palette indices (the class is the index, the colours are ignored).
    Palette,
    /// 32-bit floating point values (a probability map or float-coded labels).
    Float,
}

/// The samples of a single-channel raster, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    /// Up to 8 bits per sample (sub-byte depths are unpacked to one byte per pixel).
    U8(Vec<u8>),
    /// 16 bits per sample, native endianness.
    U16(Vec<u16>),
    /// 32-bit floats.
    F32(Vec<f32>),
}

impl Samples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
            Samples::F32(v) => v.len(),
        }
    }
}

/// A decoded single-channel image.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// How to read the samples.
    pub kind: SampleKind,
    /// `width * height` samples, row-major.
    pub samples: Samples,
}

impl Raster {
    /// The largest value a gray sample can take (`2^bits - 1`); `None` for palettes and floats.
    pub fn gray_max(&self) -> Option<u32> {
        match self.kind {
            SampleKind::Gray { bits } => Some((1u32 << bits) - 1),
            _ => None,
        }
    }

    /// A short human description, e.g. `"8-bit gray"`, for messages.
    pub fn describe(&self) -> String {
        match self.kind {
            SampleKind::Gray { bits } => format!("{bits}-bit gray"),
            SampleKind::Palette => "palette".to_string(),
            SampleKind::Float => "32-bit float".to_string(),
        }
    }
}

/// Reads and decodes the mask at `path`.
///
/// # Errors
/// The file cannot be opened or read, is neither PNG nor TIFF, is corrupt, has a layout that is
/// not a single-channel mask, or declares more than `limits.max_pixels` pixels. The message
/// names the file.
pub fn decode_file(path: &Path, limits: &DecodeLimits) -> Result<Raster> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    decode(BufReader::with_capacity(1 << 16, file), limits)
        .with_context(|| format!("cannot decode {}", path.display()))
}

/// Decodes a PNG or TIFF mask from any seekable reader.
///
/// # Errors
/// As [`decode_file`], without the file name.
pub fn decode<R: BufRead + Seek>(mut reader: R, limits: &DecodeLimits) -> Result<Raster> {
    let mut magic = [0u8; 8];
    let got = read_up_to(&mut reader, &mut magic)?;
    reader.rewind()?;
    let magic = &magic[..got];
    if magic.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(reader, limits)
    } else if magic.starts_with(b"II*\0")
        || magic.starts_with(b"MM\0*")
        || magic.starts_with(b"II+\0")
        || magic.starts_with(b"MM\0+")
    {
        decode_tiff(reader, limits)
    } else {
        bail!("not a PNG or TIFF file (unrecognised signature {magic:02x?})")
    }
}

fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn check_size(width: u32, height: u32, limits: &DecodeLimits) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 {
        bail!("image is empty ({width}x{height})");
    }
    if pixels > limits.max_pixels {
        bail!(
            "image declares {width}x{height} = {pixels} pixels, over the limit of {} \
             (raise it with --max-pixels if the file is genuine)",
            limits.max_pixels
        );
    }
    Ok(())
}

fn decode_png<R: BufRead + Seek>(reader: R, limits: &DecodeLimits) -> Result<Raster> {
    use png::{BitDepth, ColorType};
    let mut decoder = png::Decoder::new(reader);
    decoder.set_transformations(png::Transformations::IDENTITY);
    decoder.set_ignore_text_chunk(true);
    let (width, height, color, depth) = {
        let info = decoder.read_header_info().map_err(png_error)?;
        (info.width, info.height, info.color_type, info.bit_depth)
    };
    check_size(width, height, limits)?;
    let kind = match color {
        ColorType::Grayscale => SampleKind::Gray { bits: depth as u8 },
        ColorType::Indexed => SampleKind::Palette,
        other => bail!(
            "PNG is {other:?} ({} bit); expected a single-channel mask \
             (grayscale or palette)",
            depth as u8
        ),
    };
    let mut png_reader = decoder.read_info().map_err(png_error)?;
    let size = png_reader
        .output_buffer_size()
        .ok_or_else(|| anyhow!("PNG output size overflows"))?;
    let mut buf = vec![0u8; size];
    let frame = png_reader.next_frame(&mut buf).map_err(png_error)?;
    let line = frame.line_size;
    let (w, h) = (width as usize, height as usize);
    let samples = match depth {
        BitDepth::Eight => {
            if line != w {
                bail!("PNG row is {line} bytes, expected {w}");
            }
            buf.truncate(w * h);
            Samples::U8(buf)
        }
        BitDepth::Sixteen => Samples::U16(
            buf.chunks_exact(2)
                .take(w * h)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .collect(),
        ),
        BitDepth::One | BitDepth::Two | BitDepth::Four => {
            Samples::U8(unpack_bits(&buf, line, w, h, depth as u8))
        }
    };
    Ok(Raster {
        width,
        height,
        kind,
        samples,
    })
}

fn png_error(e: png::DecodingError) -> anyhow::Error {
    anyhow!("corrupt or unsupported PNG: {e}")
}

/// Unpacks rows of `bits`-bit samples (MSB first, rows padded to a byte) to one byte each.
fn unpack_bits(buf: &[u8], line: usize, w: usize, h: usize, bits: u8) -> Vec<u8> {
    let per_byte = 8 / bits as usize;
    let mask = (1u8 << bits) - 1;
    let mut out = Vec::with_capacity(w * h);
    for row in buf.chunks(line).take(h) {
        for x in 0..w {
            let byte = row[x / per_byte];
            let shift = 8 - bits as usize * (x % per_byte + 1);
            out.push((byte >> shift) & mask);
        }
    }
    out
}

fn decode_tiff<R: Read + Seek>(reader: R, limits: &DecodeLimits) -> Result<Raster> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};
    let mut decoder = Decoder::new(reader).map_err(tiff_error)?;
    let (width, height) = decoder.dimensions().map_err(tiff_error)?;
    check_size(width, height, limits)?;
    let color = decoder.colortype().map_err(tiff_error)?;
    let bits = match color {
        ColorType::Gray(b) => b,
        ColorType::Multiband {
            bit_depth,
            num_samples: 1,
        } => bit_depth,
        ColorType::Palette(_) => {
            bail!("palette TIFF is not supported; store class indices as an 8- or 16-bit gray band")
        }
        other => bail!("TIFF is {other:?}; expected a single band (gray) mask"),
    };
    // The whole image is one decoding buffer; allow exactly what the header declared (4 bytes
    // per pixel at most for the formats accepted below).
    let bytes = usize::try_from(u64::from(width) * u64::from(height) * 4)
        .context("image too large for this machine")?;
    let mut tiff_limits = tiff::decoder::Limits::default();
    tiff_limits.decoding_buffer_size = bytes.max(tiff_limits.decoding_buffer_size);
    tiff_limits.intermediate_buffer_size = bytes.max(tiff_limits.intermediate_buffer_size);
    let mut decoder = decoder.with_limits(tiff_limits);
    let result = decoder.read_image().map_err(tiff_error)?;
    let n = width as usize * height as usize;
    let (kind, samples) = match result {
        DecodingResult::U8(v) if bits == 8 => (SampleKind::Gray { bits: 8 }, Samples::U8(v)),
        DecodingResult::U16(v) if bits == 16 => (SampleKind::Gray { bits: 16 }, Samples::U16(v)),
        DecodingResult::F32(v) if bits == 32 => (SampleKind::Float, Samples::F32(v)),
        other => bail!(
            "TIFF sample type {} ({bits} bit) is not supported; expected 8- or 16-bit unsigned \
             integers or 32-bit float",
            result_name(&other)
        ),
    };
    if samples.len() != n {
        bail!(
            "TIFF decoded to {} samples, expected {width}x{height} = {n}",
            samples.len()
        );
    }
    Ok(Raster {
        width,
        height,
        kind,
        samples,
    })
}

fn result_name(r: &tiff::decoder::DecodingResult) -> &'static str {
    use tiff::decoder::DecodingResult as D;
    match r {
        D::U8(_) => "u8",
        D::U16(_) => "u16",
        D::U32(_) => "u32",
        D::U64(_) => "u64",
        D::F16(_) => "f16",
        D::F32(_) => "f32",
        D::F64(_) => "f64",
        D::I8(_) => "i8",
        D::I16(_) => "i16",
        D::I32(_) => "i32",
        D::I64(_) => "i64",
    }
}

fn tiff_error(e: tiff::TiffError) -> anyhow::Error {
    anyhow!("corrupt or unsupported TIFF: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    pub(crate) fn png_bytes(
        w: u32,
        h: u32,
        color: png::ColorType,
        depth: png::BitDepth,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(color);
            enc.set_depth(depth);
            if color == png::ColorType::Indexed {
                enc.set_palette(vec![0u8; 3 * 16]);
            }
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(data).unwrap();
        }
        out
    }

    #[test]
    fn png_gray8_roundtrip() {
        let data: Vec<u8> = (0..12).map(|i| (i * 20) as u8).collect();
        let bytes = png_bytes(4, 3, png::ColorType::Grayscale, png::BitDepth::Eight, &data);
        let r = decode(Cursor::new(bytes), &DecodeLimits::default()).unwrap();
        assert_eq!((r.width, r.height), (4, 3));
        assert_eq!(r.kind, SampleKind::Gray { bits: 8 });
        assert_eq!(r.samples, Samples::U8(data));
        assert_eq!(r.gray_max(), Some(255));
    }

    #[test]
    fn png_gray16_is_big_endian_in_file() {
        let vals: [u16; 3] = [0, 1, 65535];
        let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
        let bytes = png_bytes(
            3,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::Sixteen,
            &data,
        );
        let r = decode(Cursor::new(bytes), &DecodeLimits::default()).unwrap();
        assert_eq!(r.samples, Samples::U16(vals.to_vec()));
    }

    #[test]
    fn png_one_bit_and_palette_unpack_per_row() {
        // 3 pixels per row, 2 rows: rows are padded to whole bytes.
        let bytes = png_bytes(
            3,
            2,
            png::ColorType::Grayscale,
            png::BitDepth::One,
            &[0b1010_0000, 0b0110_0000],
        );
        let r = decode(Cursor::new(bytes), &DecodeLimits::default()).unwrap();
        assert_eq!(r.samples, Samples::U8(vec![1, 0, 1, 0, 1, 1]));
        assert_eq!(r.gray_max(), Some(1));
        let bytes = png_bytes(
            3,
            1,
            png::ColorType::Indexed,
            png::BitDepth::Four,
            &[0x2f, 0x70],
        );
        let r = decode(Cursor::new(bytes), &DecodeLimits::default()).unwrap();
        assert_eq!(r.kind, SampleKind::Palette);
        assert_eq!(r.samples, Samples::U8(vec![2, 15, 7]));
    }

    #[test]
    fn rgb_png_is_refused_by_name() {
        let bytes = png_bytes(1, 1, png::ColorType::Rgb, png::BitDepth::Eight, &[1, 2, 3]);
        let e = decode(Cursor::new(bytes), &DecodeLimits::default()).unwrap_err();
        assert!(format!("{e:#}").contains("single-channel"), "{e:#}");
    }

    #[test]
    fn bomb_is_refused_before_allocation() {
        // A valid header declaring 100000 x 100000 pixels and no data at all.
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend([8, 0, 0, 0, 0]);
        bytes.extend(13u32.to_be_bytes());
        bytes.extend(&ihdr);
        bytes.extend(crc32(&ihdr).to_be_bytes());
        let e = decode(Cursor::new(bytes), &DecodeLimits::default()).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("100000x100000") && msg.contains("limit"),
            "{msg}"
        );
    }

    #[test]
    fn tiff_u16_and_f32() {
        use tiff::encoder::{TiffEncoder, colortype};
        let mut buf = Cursor::new(Vec::new());
        let vals: Vec<u16> = vec![0, 3, 65535, 7];
        TiffEncoder::new(&mut buf)
            .unwrap()
            .write_image::<colortype::Gray16>(2, 2, &vals)
            .unwrap();
        let r = decode(Cursor::new(buf.into_inner()), &DecodeLimits::default()).unwrap();
        assert_eq!(r.samples, Samples::U16(vals));
        let mut buf = Cursor::new(Vec::new());
        let vals: Vec<f32> = vec![0.0, 0.25, 1.0, 0.5, 0.75, 0.1];
        TiffEncoder::new(&mut buf)
            .unwrap()
            .write_image::<colortype::Gray32Float>(3, 2, &vals)
            .unwrap();
        let r = decode(Cursor::new(buf.into_inner()), &DecodeLimits::default()).unwrap();
        assert_eq!(r.kind, SampleKind::Float);
        assert_eq!(r.samples, Samples::F32(vals));
    }

    #[test]
    fn tiff_bomb_is_refused() {
        use tiff::encoder::{TiffEncoder, colortype};
        let mut buf = Cursor::new(Vec::new());
        TiffEncoder::new(&mut buf)
            .unwrap()
            .write_image::<colortype::Gray8>(64, 64, &[0u8; 64 * 64])
            .unwrap();
        let limits = DecodeLimits { max_pixels: 1000 };
        let e = decode(Cursor::new(buf.into_inner()), &limits).unwrap_err();
        assert!(format!("{e:#}").contains("over the limit of 1000"), "{e:#}");
    }

    #[test]
    fn garbage_is_an_error() {
        let e = decode(Cursor::new(b"hello".to_vec()), &DecodeLimits::default()).unwrap_err();
        assert!(format!("{e:#}").contains("not a PNG or TIFF"));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
