//! Helpers shared by the `eval_*` integration tests: fixture writers and a runner.
#![allow(dead_code)]

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::Command;

/// Output of one `segloss` invocation.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `segloss` binary with `args`.
pub fn segloss(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_segloss"))
        .args(args)
        .output()
        .expect("segloss binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `segloss eval --pred <pred> --truth <truth>` followed by `extra`.
pub fn eval(pred: &Path, truth: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["eval", "--pred", s(pred), "--truth", s(truth)];
    args.extend_from_slice(extra);
    segloss(&args)
}

/// Path as `&str` (temp paths are UTF-8 here).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn create(path: &Path) -> BufWriter<File> {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    BufWriter::new(File::create(path).unwrap())
}

/// An 8-bit gray PNG.
pub fn png_gray8(path: &Path, w: u32, h: u32, data: &[u8]) {
    let mut enc = png::Encoder::new(create(path), w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(data).unwrap();
}

/// A 16-bit gray PNG.
pub fn png_gray16(path: &Path, w: u32, h: u32, data: &[u16]) {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut enc = png::Encoder::new(create(path), w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Sixteen);
    enc.write_header()
        .unwrap()
        .write_image_data(&bytes)
        .unwrap();
}

/// An 8-bit palette PNG whose indices are `data`.
pub fn png_palette(path: &Path, w: u32, h: u32, data: &[u8]) {
    let mut enc = png::Encoder::new(create(path), w, h);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(
        (0..=255u8)
            .flat_map(|i| [i, 255 - i, i / 2])
            .collect::<Vec<u8>>(),
    );
    enc.write_header().unwrap().write_image_data(data).unwrap();
}

/// An 8-bit gray TIFF.
pub fn tiff_u8(path: &Path, w: u32, h: u32, data: &[u8]) {
    use tiff::encoder::{TiffEncoder, colortype};
    TiffEncoder::new(create(path))
        .unwrap()
        .write_image::<colortype::Gray8>(w, h, data)
        .unwrap();
}

/// A 16-bit gray TIFF.
pub fn tiff_u16(path: &Path, w: u32, h: u32, data: &[u16]) {
    use tiff::encoder::{TiffEncoder, colortype};
    TiffEncoder::new(create(path))
        .unwrap()
        .write_image::<colortype::Gray16>(w, h, data)
        .unwrap();
}

/// A 32-bit float TIFF.
pub fn tiff_f32(path: &Path, w: u32, h: u32, data: &[f32]) {
    use tiff::encoder::{TiffEncoder, colortype};
    TiffEncoder::new(create(path))
        .unwrap()
        .write_image::<colortype::Gray32Float>(w, h, data)
        .unwrap();
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A mask of `n` labels below `k`, with blobs so objects and scores are non-trivial.
    pub fn labels(&mut self, n: usize, k: u64) -> Vec<u8> {
        let mut v = Vec::with_capacity(n);
        let mut current = 0u8;
        for _ in 0..n {
            if self.below(6) == 0 {
                current = self.below(k) as u8;
            }
            v.push(current);
        }
        v
    }

    /// `truth` with about one label in `noise` replaced at random.
    pub fn perturb(&mut self, truth: &[u8], k: u64, noise: u64) -> Vec<u8> {
        truth
            .iter()
            .map(|&t| {
                if self.below(noise) == 0 {
                    self.below(k) as u8
                } else {
                    t
                }
            })
            .collect()
    }
}

/// Parses a JSON report.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A sorted listing of every file under `dir` with its bytes, to prove nothing changed.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walk(dir) {
        out.push((e.display().to_string(), std::fs::read(&e).unwrap()));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
