//! PNG pictures: line charts (training curves, the guide's plots) and prediction panels.
//!
//! Everything is drawn with plotters' bitmap backend into an RGB buffer and written with the
//! `image` crate. Text uses a bundled font (DejaVu Sans Mono, `assets/`), so no system font
//! library is needed.

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// The bundled font (DejaVu Sans Mono; license in `assets/DejaVu-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSansMono.ttf");

/// Registers the bundled font under the family name plotters' default text style uses.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // A failure here would only lose the text; the bytes are ours and known to parse.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Distinct line colours (Okabe–Ito, readable by colour-blind people), then black.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

/// One named line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart's frame.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// x-axis label.
    pub x_label: &'a str,
    /// y-axis label.
    pub y_label: &'a str,
    /// x range.
    pub x: Range<f64>,
    /// y range.
    pub y: Range<f64>,
}

/// Saves an RGB buffer as PNG.
pub fn save_png(path: &Path, rgb: Vec<u8>, width: u32, height: u32) -> Result<()> {
    let img = image::RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| anyhow!("internal: buffer size does not match {width}×{height}"))?;
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// Draws `series` as a line chart of `size` pixels into `path`.
///
/// # Errors
/// Drawing or writing the file failed.
pub fn line_chart(
    path: &Path,
    chart: &Chart<'_>,
    series: &[Series],
    size: (u32, u32),
) -> Result<()> {
    register_font();
    let mut buf = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw_chart(&root, chart, series).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    save_png(path, buf, size.0, size.1)
}

/// Draws two charts side by side into `path`.
///
/// # Errors
/// Drawing or writing the file failed.
pub fn two_charts(
    path: &Path,
    left: (&Chart<'_>, &[Series]),
    right: (&Chart<'_>, &[Series]),
    size: (u32, u32),
) -> Result<()> {
    register_font();
    let mut buf = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        let (a, b) = root.split_horizontally(size.0 / 2);
        draw_chart(&a, left.0, left.1).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        draw_chart(&b, right.0, right.1).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    save_png(path, buf, size.0, size.1)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw_chart(
    area: &Area<'_>,
    chart: &Chart<'_>,
    series: &[Series],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut c = ChartBuilder::on(area)
        .caption(chart.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(chart.x.clone(), chart.y.clone())?;
    c.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .label_style(("sans-serif", 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        c.draw_series(LineSeries::new(
            s.points.iter().copied(),
            color.stroke_width(2),
        ))?
        .label(s.label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

/// One row of a prediction panel.
pub struct PanelRow<'a> {
    /// Planar RGB in `[0, 1]` (`3×H×W`).
    pub image: &'a [f32],
    /// Truth, 0/1 (`H×W`).
    pub truth: &'a [u8],
    /// Predicted probabilities (`H×W`).
    pub probability: &'a [f32],
}

/// Writes a panel: one row per tile; columns: image, truth, probability, and the errors at
/// `threshold` (green = true positive, red = false positive, blue = false negative, over a
/// dimmed image).
///
/// # Errors
/// Drawing or writing the file failed.
pub fn prediction_panel(
    path: &Path,
    title: &str,
    rows: &[PanelRow<'_>],
    height: usize,
    width: usize,
    threshold: f32,
) -> Result<()> {
    register_font();
    const SCALE: usize = 3;
    const GAP: usize = 6;
    const HEADER: usize = 44;
    let (cw, ch) = (width * SCALE, height * SCALE);
    let cols = 4;
    let img_w = cols * cw + (cols + 1) * GAP;
    let img_h = HEADER + rows.len() * (ch + GAP) + GAP;
    let mut buf = vec![255u8; img_w * img_h * 3];
    let px = height * width;
    for (r, row) in rows.iter().enumerate() {
        for y in 0..height {
            for x in 0..width {
                let i = y * width + x;
                let rgb = [row.image[i], row.image[px + i], row.image[2 * px + i]].map(to_u8);
                let t = if row.truth[i] != 0 { 255 } else { 0 };
                let p = to_u8(row.probability[i]);
                let pred = row.probability[i] >= threshold;
                let dim = rgb.map(|v| v / 3);
                let err = match (pred, row.truth[i] != 0) {
                    (true, true) => [40, 200, 60],
                    (true, false) => [235, 50, 40],
                    (false, true) => [50, 110, 255],
                    (false, false) => dim,
                };
                for (c, color) in [rgb, [t; 3], [p; 3], err].into_iter().enumerate() {
                    let ox = GAP + c * (cw + GAP) + x * SCALE;
                    let oy = HEADER + r * (ch + GAP) + y * SCALE;
                    for dy in 0..SCALE {
                        for dx in 0..SCALE {
                            let o = ((oy + dy) * img_w + ox + dx) * 3;
                            buf[o..o + 3].copy_from_slice(&color);
                        }
                    }
                }
            }
        }
    }
    {
        let root =
            BitMapBackend::with_buffer(&mut buf, (img_w as u32, img_h as u32)).into_drawing_area();
        let style = ("sans-serif", 14).into_font().color(&BLACK);
        let draw = |text: &str, x: usize, y: usize| {
            root.draw(&Text::new(
                text.to_string(),
                (x as i32, y as i32),
                style.clone(),
            ))
        };
        let labels = ["image", "truth", "probability", "errors"];
        let res = draw(title, GAP, 4).and_then(|()| {
            labels
                .iter()
                .enumerate()
                .try_for_each(|(c, l)| draw(l, GAP + c * (cw + GAP), 24))
        });
        res.map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    save_png(path, buf, img_w as u32, img_h as u32)
}

fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Moving average over a centred window of `2·half + 1` points (shorter at the ends).
pub fn smooth(points: &[(f64, f64)], half: usize) -> Vec<(f64, f64)> {
    (0..points.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(points.len());
            let mean = points[lo..hi].iter().map(|p| p.1).sum::<f64>() / (hi - lo) as f64;
            (points[i].0, mean)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_keeps_constants_and_length() {
        let pts: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 2.0)).collect();
        let s = smooth(&pts, 3);
        assert_eq!(s.len(), 10);
        assert!(s.iter().all(|p| (p.1 - 2.0).abs() < 1e-12));
    }

    #[test]
    fn chart_and_panel_are_written() {
        let dir = std::env::temp_dir().join(format!("segloss-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let chart = Chart {
            title: "t",
            x_label: "x",
            y_label: "y",
            x: 0.0..1.0,
            y: 0.0..1.0,
        };
        let s = [Series {
            label: "line".into(),
            points: vec![(0.0, 0.0), (1.0, 1.0)],
        }];
        line_chart(&dir.join("c.png"), &chart, &s, (300, 200)).unwrap();
        let img = image::open(dir.join("c.png")).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (300, 200));
        // Something other than white was drawn.
        assert!(img.pixels().any(|p| p.0 != [255, 255, 255]));
        let image = vec![0.5f32; 3 * 16];
        let truth = vec![1u8; 16];
        let prob = vec![0.9f32; 16];
        let rows = [PanelRow {
            image: &image,
            truth: &truth,
            probability: &prob,
        }];
        prediction_panel(&dir.join("p.png"), "panel", &rows, 4, 4, 0.5).unwrap();
        assert!(image::open(dir.join("p.png")).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
