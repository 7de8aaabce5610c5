//! Generates a synthetic evaluation workload: `N` pairs of `SIZE×SIZE` binary 8-bit PNG masks
//! (0/255) that look like building footprints, for timing `segloss eval`.
//!
//! ```text
//! cargo run --release -p segloss-cli --example gen_masks -- OUT_DIR [N=200] [SIZE=1024] [SEED=1]
//! ```
//! Writes `OUT_DIR/truth/tile_XXXX.png` and `OUT_DIR/pred/tile_XXXX.png`. Truth tiles hold
//! random axis-aligned rectangles (about 15% foreground); predictions shift most of them by a
//! few pixels, miss some and add some false alarms, so every metric is non-trivial.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(out) = args.get(1) else {
        eprintln!("usage: gen_masks OUT_DIR [N=200] [SIZE=1024] [SEED=1]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let size: usize = args.get(3).map_or(Ok(1024), |s| s.parse())?;
    let seed: u64 = args.get(4).map_or(Ok(1), |s| s.parse())?;
    let out = Path::new(out);
    std::fs::create_dir_all(out.join("truth"))?;
    std::fs::create_dir_all(out.join("pred"))?;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for i in 0..n {
        let mut truth = vec![0u8; size * size];
        let mut pred = vec![0u8; size * size];
        let buildings = 40 + rng.below(40);
        for _ in 0..buildings {
            let w = 8 + rng.below(size / 12);
            let h = 8 + rng.below(size / 12);
            let x = rng.below(size - w);
            let y = rng.below(size - h);
            fill(&mut truth, size, x, y, w, h);
            if rng.below(10) == 0 {
                continue; // missed building
            }
            let dx = rng.below(7) as isize - 3;
            let dy = rng.below(7) as isize - 3;
            let px = (x as isize + dx).clamp(0, (size - w) as isize) as usize;
            let py = (y as isize + dy).clamp(0, (size - h) as isize) as usize;
            fill(&mut pred, size, px, py, w, h);
        }
        for _ in 0..rng.below(8) {
            let (w, h) = (6 + rng.below(30), 6 + rng.below(30));
            let (x, y) = (rng.below(size - w), rng.below(size - h));
            fill(&mut pred, size, x, y, w, h);
        }
        write_png(&out.join(format!("truth/tile_{i:04}.png")), size, &truth)?;
        write_png(&out.join(format!("pred/tile_{i:04}.png")), size, &pred)?;
    }
    println!(
        "wrote {n} pairs of {size}x{size} masks under {}",
        out.display()
    );
    Ok(())
}

fn fill(mask: &mut [u8], size: usize, x: usize, y: usize, w: usize, h: usize) {
    for row in y..y + h {
        mask[row * size + x..row * size + x + w].fill(255);
    }
}

fn write_png(path: &Path, size: usize, data: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let mut enc = png::Encoder::new(
        BufWriter::new(File::create(path)?),
        size as u32,
        size as u32,
    );
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header()?;
    w.write_image_data(data)?;
    w.finish()?;
    Ok(())
}

/// xorshift64*: deterministic across platforms, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
