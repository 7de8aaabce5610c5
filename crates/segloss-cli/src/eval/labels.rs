//! Turning decoded samples into class labels.
//!
//! Three readings, chosen once for a run (see [`Encoding`]):
//! - **binary** (the default): a pixel is positive when its sample is 1 or the largest value of
//!   its bit depth (255 for 8-bit), negative when 0; masks saved as 0/1 and as 0/255 both
//!   work. Any other value is an error that suggests `--threshold` or `--classes`.
//! - **threshold** `t` (predictions only): a gray sample `v` of bit depth `b` is positive when
//!   `v / (2^b - 1) >= t`; a float sample when `v >= t`. Truth files are still read as binary.
//! - **classes** `K`: every sample is a class index below `K` (a palette index, a gray level, or
//!   a float holding an exact integer).
//!
//! `--ignore V` marks truth pixels whose raw sample equals `V` as ignored; they become the
//! sentinel [`Labels::ignore_label`] and count nowhere. A prediction must hold a valid label at
//! every pixel.

use anyhow::{Result, bail};

use super::decode::{Raster, SampleKind, Samples};

/// How samples become labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Encoding {
    /// Two classes; 0 is negative, 1 or the bit depth's maximum is positive.
    Binary,
    /// Two classes; predictions are probability maps cut at this threshold.
    Threshold(f64),
    /// `K` classes; samples are class indices.
    Classes(u32),
}

impl Encoding {
    /// The number of classes this encoding produces.
    pub fn classes(&self) -> u32 {
        match self {
            Encoding::Binary | Encoding::Threshold(_) => 2,
            Encoding::Classes(k) => *k,
        }
    }
}

/// Which side of a pair a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The prediction.
    Pred,
    /// The ground truth.
    Truth,
}

impl Side {
    /// `"prediction"` or `"truth"`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Pred => "prediction",
            Side::Truth => "truth",
        }
    }
}

/// Labels of one image: `u8` when the class count allows, else `u16`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Labels {
    /// At most 255 classes; 255 is the ignore sentinel.
    U8(Vec<u8>),
    /// At most 65535 classes; 65535 is the ignore sentinel.
    U16(Vec<u16>),
}

impl Labels {
    /// The label type's maximum, used for ignored truth pixels.
    pub fn ignore_label(&self) -> u64 {
        match self {
            Labels::U8(_) => u64::from(u8::MAX),
            Labels::U16(_) => u64::from(u16::MAX),
        }
    }

    /// Number of pixels.
    pub fn len(&self) -> usize {
        match self {
            Labels::U8(v) => v.len(),
            Labels::U16(v) => v.len(),
        }
    }

    /// The label at `i`, widened.
    pub fn get(&self, i: usize) -> u32 {
        match self {
            Labels::U8(v) => u32::from(v[i]),
            Labels::U16(v) => u32::from(v[i]),
        }
    }
}

/// The rule applied to every file of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelRule {
    /// How samples are read.
    pub encoding: Encoding,
    /// Raw truth value to ignore.
    pub ignore: Option<u32>,
}

/// Sentinel in look-up tables for a sample that is not a valid label.
const INVALID: u32 = u32::MAX;

impl LabelRule {
    /// Whether labels of this rule fit `u8` (otherwise `u16`).
    pub fn narrow(&self) -> bool {
        self.encoding.classes() <= 255
    }

    fn ignore_sentinel(&self) -> u32 {
        if self.narrow() {
            u32::from(u8::MAX)
        } else {
            u32::from(u16::MAX)
        }
    }

    /// The label for an integer sample, `INVALID` if it has none.
    fn label_of(&self, v: u32, side: Side, kind: SampleKind, max: u32) -> u32 {
        if side == Side::Truth && self.ignore == Some(v) {
            return self.ignore_sentinel();
        }
        match (self.encoding, side) {
            (Encoding::Threshold(t), Side::Pred) => u32::from(f64::from(v) / f64::from(max) >= t),
            (Encoding::Binary | Encoding::Threshold(_), _) => match v {
                0 => 0,
                1 => 1,
                v if v == max && matches!(kind, SampleKind::Gray { .. }) => 1,
                _ => INVALID,
            },
            (Encoding::Classes(k), _) => {
                if v < k {
                    v
                } else {
                    INVALID
                }
            }
        }
    }

    /// Converts a decoded raster to labels (consuming it, reusing its buffer when it can).
    ///
    /// # Errors
    /// A sample that is not a valid label under this rule: the message gives the pixel
    /// position, its value and the rule. `--threshold` on a palette prediction.
    pub fn to_labels(&self, raster: Raster, side: Side) -> Result<Labels> {
        let width = raster.width as usize;
        let kind = raster.kind;
        if side == Side::Pred
            && matches!(self.encoding, Encoding::Threshold(_))
            && kind == SampleKind::Palette
        {
            bail!(
                "--threshold needs a gray or float probability map, but the prediction is a palette image"
            );
        }
        let max = raster.gray_max().unwrap_or(u32::MAX);
        let narrow = self.narrow();
        let bad = |i: usize, v: String| -> anyhow::Error {
            let (x, y) = (i % width, i / width);
            anyhow::anyhow!(
                "{} pixel (x={x}, y={y}) is {v}, {}",
                side.name(),
                self.expectation(side, max)
            )
        };
        match raster.samples {
            Samples::U8(mut v) => {
                let lut: Vec<u32> = (0..256)
                    .map(|s| self.label_of(s, side, kind, max))
                    .collect();
                if narrow {
                    if let Some(i) = map_in_place(&mut v, &lut) {
                        return Err(bad(i, v[i].to_string()));
                    }
                    Ok(Labels::U8(v))
                } else {
                    let mut out = Vec::with_capacity(v.len());
                    for (i, &s) in v.iter().enumerate() {
                        let l = lut[usize::from(s)];
                        if l == INVALID {
                            return Err(bad(i, s.to_string()));
                        }
                        out.push(l as u16);
                    }
                    Ok(Labels::U16(out))
                }
            }
            Samples::U16(mut v) => {
                let lut: Vec<u32> = (0..65536)
                    .map(|s| self.label_of(s, side, kind, max))
                    .collect();
                if narrow {
                    let mut out = Vec::with_capacity(v.len());
                    let mut acc = 0u32;
                    out.extend(v.iter().map(|&s| {
                        let l = lut[usize::from(s)];
                        acc |= l;
                        l as u8
                    }));
                    if acc > 255
                        && let Some(i) = v.iter().position(|&s| lut[usize::from(s)] > 255)
                    {
                        return Err(bad(i, v[i].to_string()));
                    }
                    Ok(Labels::U8(out))
                } else {
                    if let Some(i) = v.iter().position(|&s| lut[usize::from(s)] == INVALID) {
                        return Err(bad(i, v[i].to_string()));
                    }
                    for s in v.iter_mut() {
                        *s = lut[usize::from(*s)] as u16;
                    }
                    Ok(Labels::U16(v))
                }
            }
            Samples::F32(v) => {
                let sentinel = self.ignore_sentinel();
                let mut out_u8 = Vec::new();
                let mut out_u16 = Vec::new();
                for (i, &s) in v.iter().enumerate() {
                    if !s.is_finite() {
                        return Err(bad(i, s.to_string()));
                    }
                    let l = if side == Side::Truth && self.ignore.is_some_and(|g| s == g as f32) {
                        sentinel
                    } else {
                        match (self.encoding, side) {
                            (Encoding::Threshold(t), Side::Pred) => u32::from(f64::from(s) >= t),
                            _ => {
                                let k = self.encoding.classes();
                                if s >= 0.0 && s.fract() == 0.0 && s < k as f32 {
                                    s as u32
                                } else {
                                    return Err(bad(i, s.to_string()));
                                }
                            }
                        }
                    };
                    if narrow {
                        out_u8.push(l as u8);
                    } else {
                        out_u16.push(l as u16);
                    }
                }
                Ok(if narrow {
                    Labels::U8(out_u8)
                } else {
                    Labels::U16(out_u16)
                })
            }
        }
    }

    fn expectation(&self, side: Side, max: u32) -> String {
        let ignore = match (side, self.ignore) {
            (Side::Truth, Some(g)) => format!(" or the ignore value {g}"),
            _ => String::new(),
        };
        match (self.encoding, side) {
            (Encoding::Threshold(_), Side::Pred) => {
                "expected a finite probability to compare with --threshold".to_string()
            }
            (Encoding::Binary | Encoding::Threshold(_), _) => {
                let hi = if max != u32::MAX && max > 1 {
                    format!(" or {max}")
                } else {
                    String::new()
                };
                format!(
                    "expected a binary mask value 0, 1{hi}{ignore} \
                     (use --threshold for probability maps, --classes for index masks)"
                )
            }
            (Encoding::Classes(k), _) => {
                format!("expected a class index below {k} (--classes {k}){ignore}")
            }
        }
    }
}

/// Maps `v` through `lut` in place; returns the index of the first invalid sample, if any.
fn map_in_place(v: &mut [u8], lut: &[u32]) -> Option<usize> {
    let mut table = [0u8; 256];
    let mut valid = [true; 256];
    for (s, &l) in lut.iter().enumerate() {
        table[s] = l as u8;
        valid[s] = l <= 255;
    }
    if valid.iter().all(|&ok| ok) {
        for s in v.iter_mut() {
            *s = table[usize::from(*s)];
        }
        return None;
    }
    // Find an invalid sample before touching the buffer, so the error can show the raw value.
    let first_bad = v.iter().position(|&s| !valid[usize::from(s)]);
    if first_bad.is_none() {
        for s in v.iter_mut() {
            *s = table[usize::from(*s)];
        }
    }
    first_bad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray8(v: Vec<u8>) -> Raster {
        Raster {
            width: v.len() as u32,
            height: 1,
            kind: SampleKind::Gray { bits: 8 },
            samples: Samples::U8(v),
        }
    }

    const BINARY: LabelRule = LabelRule {
        encoding: Encoding::Binary,
        ignore: None,
    };

    #[test]
    fn binary_accepts_0_1_and_0_255() {
        let l = BINARY
            .to_labels(gray8(vec![0, 255, 1, 0]), Side::Truth)
            .unwrap();
        assert_eq!(l, Labels::U8(vec![0, 1, 1, 0]));
    }

    #[test]
    fn binary_rejects_gray_levels_with_position_and_hint() {
        let e = BINARY
            .to_labels(
                Raster {
                    width: 2,
                    height: 2,
                    kind: SampleKind::Gray { bits: 8 },
                    samples: Samples::U8(vec![0, 0, 0, 128]),
                },
                Side::Pred,
            )
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("(x=1, y=1) is 128"), "{msg}");
        assert!(msg.contains("--threshold"), "{msg}");
    }

    #[test]
    fn threshold_on_gray_and_float_is_inclusive() {
        let rule = LabelRule {
            encoding: Encoding::Threshold(0.5),
            ignore: None,
        };
        // 127/255 < 0.5 <= 128/255
        let l = rule
            .to_labels(gray8(vec![0, 127, 128, 255]), Side::Pred)
            .unwrap();
        assert_eq!(l, Labels::U8(vec![0, 0, 1, 1]));
        let f = Raster {
            width: 3,
            height: 1,
            kind: SampleKind::Float,
            samples: Samples::F32(vec![0.49, 0.5, 0.9]),
        };
        assert_eq!(
            rule.to_labels(f, Side::Pred).unwrap(),
            Labels::U8(vec![0, 1, 1])
        );
        let nan = Raster {
            width: 1,
            height: 1,
            kind: SampleKind::Float,
            samples: Samples::F32(vec![f32::NAN]),
        };
        assert!(rule.to_labels(nan, Side::Pred).is_err());
    }

    #[test]
    fn classes_and_ignore() {
        let rule = LabelRule {
            encoding: Encoding::Classes(3),
            ignore: Some(255),
        };
        let l = rule
            .to_labels(gray8(vec![0, 2, 255, 1]), Side::Truth)
            .unwrap();
        assert_eq!(l, Labels::U8(vec![0, 2, 255, 1]));
        let e = rule.to_labels(gray8(vec![0, 3]), Side::Truth).unwrap_err();
        assert!(e.to_string().contains("below 3"), "{e}");
        // The ignore value applies to the truth only.
        assert!(rule.to_labels(gray8(vec![255]), Side::Pred).is_err());
    }

    #[test]
    fn many_classes_use_u16() {
        let rule = LabelRule {
            encoding: Encoding::Classes(1000),
            ignore: Some(0),
        };
        let r = Raster {
            width: 3,
            height: 1,
            kind: SampleKind::Gray { bits: 16 },
            samples: Samples::U16(vec![0, 999, 5]),
        };
        assert_eq!(
            rule.to_labels(r, Side::Truth).unwrap(),
            Labels::U16(vec![65535, 999, 5])
        );
    }
}
