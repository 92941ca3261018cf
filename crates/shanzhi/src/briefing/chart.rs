//! The briefing's charts as PNG images, drawn on the server for the .docx: horizontal bars,
//! one per item, with its label and value.
//!
//! Text needs a font file, loaded once at run time (the binary embeds none): `briefing_font`,
//! else the first of a few usual system paths. A label is drawn as written when the font has a
//! glyph for each of its characters (a CJK font draws Chinese names), else as its row number
//! in the table printed beside the chart; with no font at all the bars are drawn alone.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Width and height of a chart in pixels (printed 16 cm wide in the document).
pub const WIDTH: u32 = 1200;
/// Height per bar and margins.
const BAR: u32 = 44;
const MARGIN: u32 = 24;
/// Bars per chart (the table beside it lists every item).
pub const MAX_BARS: usize = 12;

/// Where fonts are usually found on Linux servers, CJK ones first.
const SYSTEM_FONTS: [&str; 6] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// The registered font (its bytes, for glyph checks), once per process.
static FONT: OnceLock<Option<&'static [u8]>> = OnceLock::new();

fn load(configured: Option<&Path>) -> Option<&'static [u8]> {
    let candidates: Vec<PathBuf> = configured
        .map(Path::to_path_buf)
        .into_iter()
        .chain(SYSTEM_FONTS.iter().map(PathBuf::from))
        .collect();
    for path in candidates {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        // Kept for the life of the process: plotters' font registry wants 'static bytes.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        if FontRef::try_from_slice(bytes).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
        {
            tracing::info!(font = %path.display(), "briefing charts: font loaded");
            return Some(bytes);
        }
        tracing::warn!(font = %path.display(), "briefing charts: not a usable font");
    }
    tracing::warn!("briefing charts: no font found (set briefing_font); charts without text");
    None
}

/// The font, loaded on first use.
fn font(configured: Option<&Path>) -> Option<FontRef<'static>> {
    FONT.get_or_init(|| load(configured))
        .and_then(|b| FontRef::try_from_slice(b).ok())
}

/// Whether the font draws every character of `s`.
fn covers(font: &FontRef<'_>, s: &str) -> bool {
    s.chars()
        .all(|c| c.is_whitespace() || font.glyph_id(c).0 != 0)
}

/// A bar chart of `(label, value)` (the first [`MAX_BARS`]) as a PNG: (bytes, width, height).
pub fn bars(
    items: &[(String, i64)],
    font_path: Option<&Path>,
) -> Result<(Vec<u8>, u32, u32), String> {
    let items = &items[..items.len().min(MAX_BARS)];
    let rows = items.len().max(1) as u32;
    let (w, h) = (WIDTH, rows * BAR + 2 * MARGIN);
    let font = font(font_path);
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let label_w: i32 = 360;
        let value_w: i32 = 110;
        let plot_w = w as i32 - label_w - value_w - 2 * MARGIN as i32;
        let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
        let style = ("sans-serif", 26).into_font().color(&BLACK);
        for (i, (label, value)) in items.iter().enumerate() {
            let top = (MARGIN + i as u32 * BAR) as i32;
            let x0 = MARGIN as i32 + label_w;
            let len = ((*value as f64 / max as f64) * plot_w as f64).round() as i32;
            let colour = if i % 2 == 0 {
                RGBColor(0x2f, 0x6f, 0xb5)
            } else {
                RGBColor(0x5b, 0x9b, 0xd5)
            };
            root.draw(&Rectangle::new(
                [(x0, top + 8), (x0 + len.max(2), top + BAR as i32 - 8)],
                colour.filled(),
            ))
            .map_err(|e| e.to_string())?;
            if let Some(f) = &font {
                let shown = if covers(f, label) {
                    label.chars().take(14).collect()
                } else {
                    format!("{}", i + 1)
                };
                root.draw(&Text::new(shown, (MARGIN as i32, top + 8), style.clone()))
                    .map_err(|e| e.to_string())?;
                root.draw(&Text::new(
                    value.to_string(),
                    (x0 + len.max(2) + 10, top + 8),
                    style.clone(),
                ))
                .map_err(|e| e.to_string())?;
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok((encode_png(&rgb, w, h)?, w, h))
}

/// RGB pixels as a PNG file.
pub(crate) fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_a_png_of_its_size() {
        let (png, w, h) = bars(&[("市容环境".into(), 5), ("gas".into(), 2)], None).unwrap();
        assert!(png.starts_with(&[0x89, b'P', b'N', b'G']));
        assert_eq!((w, h), (WIDTH, 2 * BAR + 2 * MARGIN));
    }
}
