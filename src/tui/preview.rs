//! Screenshots in the terminal, with no image protocol needed: each cell shows two pixels as
//! an upper half block (`▀`) in the upper pixel's colour over the lower pixel's colour. Colours
//! are xterm-256 indexes, which every terminal a jump host is likely to offer can show; with
//! `NO_COLOR` (the mono theme) the picture is drawn in shades of ASCII instead.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

/// Largest picture kept, in pixels: a 200-column, 60-row terminal at two pixels a cell.
const MAX_W: u32 = 200;
const MAX_H: u32 = 120;

/// A screenshot scaled down for the terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    pub width: u32,
    pub height: u32,
    /// RGB, row by row.
    pixels: Vec<[u8; 3]>,
}

impl Preview {
    /// Decodes an image (JPEG, PNG or WebP, under the same limits as uploads) and scales it to
    /// fit the terminal. Runs on a blocking thread: decoding is CPU work.
    pub fn decode(bytes: &[u8]) -> Result<Preview, String> {
        let limits = crate::domain::images::Limits::default();
        let processed =
            crate::domain::images::process(bytes, &limits).map_err(|e| e.message_zh())?;
        let image = image::load_from_memory(&processed.thumbnail).map_err(|e| e.to_string())?;
        let small = image.thumbnail(MAX_W, MAX_H).to_rgb8();
        let (width, height) = small.dimensions();
        let pixels = small.pixels().map(|p| p.0).collect();
        Ok(Preview {
            width,
            height,
            pixels,
        })
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        self.pixels
            .get((y * self.width + x) as usize)
            .copied()
            .unwrap_or([0, 0, 0])
    }

    /// Draws the picture scaled into `area` (keeping its aspect ratio), in colour or shades.
    pub fn render(&self, area: Rect, buf: &mut Buffer, colour: bool) {
        if self.width == 0 || self.height == 0 || area.width == 0 || area.height == 0 {
            return;
        }
        // Cells are about twice as tall as wide, and each holds two pixel rows.
        let scale = f64::min(
            area.width as f64 / self.width as f64,
            (area.height as f64 * 2.0) / self.height as f64,
        );
        let cols = ((self.width as f64 * scale) as u16).clamp(1, area.width);
        let rows = ((self.height as f64 * scale / 2.0) as u16).clamp(1, area.height);
        let x0 = area.x + (area.width - cols) / 2;
        let y0 = area.y + (area.height - rows) / 2;
        for row in 0..rows {
            for col in 0..cols {
                let sx = (col as f64 / scale) as u32;
                let top = self.pixel(
                    sx.min(self.width - 1),
                    ((row as f64 * 2.0) / scale) as u32 % self.height,
                );
                let bottom = self.pixel(
                    sx.min(self.width - 1),
                    ((row as f64 * 2.0 + 1.0) / scale) as u32 % self.height,
                );
                let cell = &mut buf[(x0 + col, y0 + row)];
                if colour {
                    cell.set_symbol("▀")
                        .set_style(Style::default().fg(indexed(top)).bg(indexed(bottom)));
                } else {
                    cell.set_symbol(shade(top, bottom));
                }
            }
        }
    }
}

/// The nearest colour of the xterm-256 6×6×6 cube or grey ramp, as the theme lowers RGB.
fn indexed([r, g, b]: [u8; 3]) -> Color {
    Color::Indexed(super::theme::rgb_to_256(r, g, b))
}

/// Two pixels as one ASCII character by brightness, for terminals without colour.
fn shade(top: [u8; 3], bottom: [u8; 3]) -> &'static str {
    const RAMP: [&str; 10] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"];
    let luma = |[r, g, b]: [u8; 3]| (r as u32 * 299 + g as u32 * 587 + b as u32 * 114) / 1000;
    let level = (luma(top) + luma(bottom)) / 2;
    // Dark pixels get dense characters: screenshots are mostly light backgrounds with dark text.
    RAMP[(9 - (level * 9 / 255)) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_screenshot_is_drawn_in_half_blocks_within_its_area() {
        let p = Preview::decode(&png(400, 800, [250, 250, 250])).unwrap();
        assert!(p.width <= MAX_W && p.height <= MAX_H);
        let area = Rect::new(2, 1, 40, 20);
        let mut buf = Buffer::empty(Rect::new(0, 0, 50, 25));
        p.render(area, &mut buf, true);
        let drawn: Vec<_> = buf
            .content()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.symbol() == "▀")
            .collect();
        assert!(!drawn.is_empty());
        for (i, _) in drawn {
            let (x, y) = ((i % 50) as u16, (i / 50) as u16);
            assert!(area.contains((x, y).into()), "drawn outside at {x},{y}");
        }
    }

    #[test]
    fn without_colour_it_is_ascii() {
        let p = Preview::decode(&png(10, 10, [0, 0, 0])).unwrap();
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 5));
        p.render(buf.area, &mut buf, false);
        assert!(
            buf.content()
                .iter()
                .all(|c| c.fg == Color::Reset && c.symbol().is_ascii())
        );
        assert!(buf.content().iter().any(|c| c.symbol() == "@"));
    }

    #[test]
    fn what_is_not_an_image_says_so() {
        assert!(Preview::decode(b"hello").is_err());
    }

    #[test]
    fn colours_map_to_the_256_palette() {
        assert_eq!(indexed([0, 0, 0]), Color::Indexed(16));
        assert_eq!(indexed([255, 0, 0]), Color::Indexed(196));
        assert_eq!(indexed([128, 128, 128]), Color::Indexed(244));
    }

    #[test]
    fn pixels_are_lowered_as_the_theme_lowers_colours() {
        // #5f5f5f is on the colour cube (59); a grey ramp of its own once drew it as 240.
        assert_eq!(indexed([0x5f, 0x5f, 0x5f]), Color::Indexed(59));
        for [r, g, b] in [
            [0xe0, 0x6c, 0x75],
            [0x61, 0xaf, 0xef],
            [0x3a, 0x3a, 0x3a],
            [12, 200, 90],
        ] {
            let theme = crate::tui::theme::rgb_to_256(r, g, b);
            assert_eq!(
                indexed([r, g, b]),
                Color::Indexed(theme),
                "#{r:02x}{g:02x}{b:02x}"
            );
        }
    }
}
