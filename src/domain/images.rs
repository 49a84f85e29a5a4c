//! Screenshot and photo uploads from the MSS phone pages: decide what an upload really is by
//! decoding it, refuse what is not a JPEG, PNG or WebP image (SVG, HEIC, text named `.png`,
//! decompression bombs), and re-encode what is, so that nothing the phone sent is stored as is.
//!
//! Re-encoding the decoded pixels is the point: it drops EXIF (GPS location), ICC profiles,
//! text chunks and anything glued after the image's end (a "polyglot" carrying HTML or a zip),
//! because none of those survive the trip through a pixel buffer.
//!
//! Pure: no IO, no clock, and nothing else from the crate; it may use only std, `image` and
//! `thiserror`. The caller streams the upload to a bounded buffer (never more than
//! `Limits::max_bytes`), calls [`process`] on a blocking thread (decoding is CPU-bound), and
//! stores the result under a generated name.
//!
//! Memory: `Limits::max_alloc` bounds the decoder's output buffer (checked from the header,
//! before anything is allocated). Orientation, colour conversion and the encoder's output may
//! briefly need about as much again, so the peak for one upload is roughly twice `max_alloc`.
//!
//! Colour: ICC profiles are dropped with the rest of the metadata, so a Display P3 photo is shown
//! as if it were sRGB (slightly duller). That is acceptable for problem screenshots, and
//! copying the profile through would pass attacker-chosen bytes into the stored file.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

/// Content type of a JPEG output.
pub const CONTENT_TYPE_JPEG: &str = "image/jpeg";
/// Content type of a PNG output.
pub const CONTENT_TYPE_PNG: &str = "image/png";

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_SIDE: u32 = 320;

/// Quality of a re-encoded photo: visually indistinguishable from the phone's own JPEG for a
/// problem report, and about half its size.
const JPEG_QUALITY: u8 = 85;
/// Thumbnails are small and only previews; a lower quality keeps the list page light.
const THUMBNAIL_JPEG_QUALITY: u8 = 80;

/// Format names carried by [`ImageError::Unsupported`] that get their own advice.
const FORMAT_SVG: &str = "SVG";
const FORMAT_HEIC: &str = "HEIC";

/// How big an upload may be. Configurable; the defaults suit phone screenshots and photos
/// (a 48-megapixel photo is 8064×6048 and a phone's JPEG of it stays under 10 MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted upload, in bytes.
    pub max_bytes: usize,
    /// Largest accepted width in pixels, as declared by the image's header.
    pub max_width: u32,
    /// Largest accepted height in pixels, as declared by the image's header.
    pub max_height: u32,
    /// Largest decoded pixel buffer, in bytes (and the decoder's own allocation limit).
    pub max_alloc: u64,
    /// Largest accepted width × height: a 8192×8000 picture passes the side limits but needs
    /// 250 MB decoded, which a phone's problem report never does.
    pub max_pixels: u64,
}

/// The most bytes a decoded pixel of an accepted format takes (16-bit RGBA PNG); the decode
/// memory budget must hold one picture of `max_pixels` at this depth.
pub const MAX_BYTES_PER_PIXEL: u64 = 8;

/// What decoding an upload will take, read from its header alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeCost {
    pub width: u32,
    pub height: u32,
    /// width × height × bytes per pixel: the decoded buffer.
    pub bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_width: 8192,
            max_height: 8192,
            max_alloc: 256 * 1024 * 1024,
            // 40 MP: a 12 MP phone photo and a 48 MP sensor's binned 12 MP output pass.
            max_pixels: 40_000_000,
        }
    }
}

/// A re-encoded upload and its thumbnail, ready to store.
#[derive(Clone, PartialEq, Eq)]
pub struct Processed {
    /// The re-encoded image.
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// Width after applying the EXIF orientation.
    pub width: u32,
    /// Height after applying the EXIF orientation.
    pub height: u32,
    /// At most [`THUMBNAIL_MAX_SIDE`] pixels on its longest side, aspect ratio kept.
    pub thumbnail: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub thumbnail_content_type: &'static str,
}

// The pixel data is not worth printing; sizes are what a log needs.
impl std::fmt::Debug for Processed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processed")
            .field("bytes", &self.bytes.len())
            .field("content_type", &self.content_type)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("thumbnail", &self.thumbnail.len())
            .field("thumbnail_content_type", &self.thumbnail_content_type)
            .finish()
    }
}

/// Why an upload was refused. `Display` is for the log; [`ImageError::message_zh`] is for the
/// phone page. Every variant but `Encode` is the uploader's to fix (a 4xx); `Encode` is ours.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The upload is bigger than `Limits::max_bytes`.
    #[error("upload is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    /// The bytes are not any image format we recognise (text, a PDF, empty, ...).
    #[error("not an image")]
    NotAnImage,
    /// A recognised format that is not accepted: `"SVG"`, `"HEIC"`, `"GIF"`, `"AVIF"`, ...
    #[error("unsupported image format: {0}")]
    Unsupported(String),
    /// The header declares more pixels than the limits allow (a decompression bomb, or simply
    /// an enormous image).
    #[error("image is larger than {max_width}x{max_height} pixels or the decode memory limit")]
    TooManyPixels { max_width: u32, max_height: u32 },
    /// The header declares more pixels in all than `Limits::max_pixels`.
    #[error("image is {width}x{height} pixels, over the {max_pixels}-pixel limit")]
    OverPixelLimit {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// Looks like an accepted format but does not decode: truncated, damaged, or using a
    /// feature the decoder lacks. The detail is for the log only.
    #[error("image does not decode: {0}")]
    Corrupt(String),
    /// Re-encoding a decoded image failed. Not the uploader's fault; should not happen.
    #[error("re-encoding the image failed: {0}")]
    Encode(String),
}

impl ImageError {
    /// A message for the phone page, in Chinese, saying what to do instead.
    pub fn message_zh(&self) -> String {
        const ACCEPTED: &str = "只支持 JPG、PNG、WebP 图片";
        match self {
            Self::TooLarge { size, max } => format!(
                "图片太大（{}），单张不超过 {}，请截图或压缩后再上传",
                megabytes(*size),
                megabytes(*max)
            ),
            Self::NotAnImage => format!("无法识别为图片。{ACCEPTED}"),
            Self::Unsupported(format) if format == FORMAT_HEIC => format!(
                "暂不支持 HEIC/HEIF 格式的照片。请在 iPhone「设置 › 相机 › 格式」中选择「兼容性最佳」\
                 后重新拍摄，或上传截图；{ACCEPTED}"
            ),
            Self::Unsupported(format) if format == FORMAT_SVG => {
                format!("出于安全原因不接受 SVG 或网页文件。{ACCEPTED}")
            }
            Self::Unsupported(format) => format!("不支持 {format} 格式。{ACCEPTED}"),
            Self::TooManyPixels {
                max_width,
                max_height,
            } => format!(
                "图片尺寸太大，最大支持 {max_width}×{max_height} 像素，请截图或缩小后再上传"
            ),
            Self::OverPixelLimit {
                width,
                height,
                max_pixels,
            } => format!(
                "图片尺寸太大（{width}×{height} 像素），最多支持 {} 万像素，请截图或缩小后再上传",
                max_pixels / 10_000
            ),
            Self::Corrupt(_) => "图片已损坏或不完整，无法读取，请重新截图或拍照后上传".to_string(),
            Self::Encode(_) => "图片处理失败，请稍后重试".to_string(),
        }
    }
}

/// "10 MB", "12.3 MB": one decimal, none when it is whole.
fn megabytes(bytes: usize) -> String {
    // Display only: the precision lost converting to f64 is far below the one decimal shown.
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / (1024.0 * 1024.0);
    let text = format!("{mb:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} MB")
}

/// Decodes an upload, checks it against `limits`, and re-encodes it with a thumbnail.
///
/// Output format rule: the source's own compression tells whether it is a photo or a
/// screenshot. Lossy sources (JPEG, lossy WebP — camera photos, and HEIC converted to JPEG by
/// iOS on upload) become JPEG at quality 85: PNG would make a photo three to five times bigger
/// for no visible gain. Lossless sources (PNG, lossless WebP — phone screenshots full of text)
/// stay lossless as PNG, because JPEG smears the small text that handlers need to read.
/// Anything with transparent pixels is PNG, since JPEG has no alpha. WebP is never written:
/// `image` only encodes lossless WebP, which gains little over PNG and is less widely shown.
/// The thumbnail is JPEG (quality 80) unless it has transparent pixels, then PNG.
pub fn process(bytes: &[u8], limits: &Limits) -> Result<Processed, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    // The decoders parse hostile bytes. They are fuzzed upstream, but a panic found later must
    // refuse one upload, not take a worker down with it.
    std::panic::catch_unwind(|| process_within_size(bytes, limits))
        .unwrap_or_else(|_| Err(ImageError::Corrupt("the decoder panicked".to_string())))
}

/// [`process`] minus the size check and the panic guard (tests call it to see real panics).
fn process_within_size(bytes: &[u8], limits: &Limits) -> Result<Processed, ImageError> {
    let (reader, format) = open(bytes)?;
    let lossless_source = match format {
        ImageFormat::Png => true,
        ImageFormat::WebP => webp_is_lossless(bytes),
        _ => false,
    };
    let image = decode(reader, limits)?;
    let (width, height) = (image.width(), image.height());

    let thumbnail = if width.max(height) > THUMBNAIL_MAX_SIDE {
        image.thumbnail(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE)
    } else {
        image.clone()
    };
    let (thumbnail, thumbnail_content_type) = if has_transparency(&thumbnail) {
        (encode_png(&thumbnail)?, CONTENT_TYPE_PNG)
    } else {
        (
            encode_jpeg(&thumbnail, THUMBNAIL_JPEG_QUALITY)?,
            CONTENT_TYPE_JPEG,
        )
    };

    let (bytes, content_type) = if lossless_source || has_transparency(&image) {
        (encode_png(&image)?, CONTENT_TYPE_PNG)
    } else {
        (encode_jpeg(&image, JPEG_QUALITY)?, CONTENT_TYPE_JPEG)
    };

    Ok(Processed {
        bytes,
        content_type,
        width,
        height,
        thumbnail,
        thumbnail_content_type,
    })
}

/// Reads only the header of an upload and says what decoding it will take, refusing what the
/// limits refuse (wrong format, sides, pixel count, buffer size) before any pixel exists. The
/// caller reserves [`DecodeCost::bytes`] of decode memory before calling [`process`].
pub fn decode_cost(bytes: &[u8], limits: &Limits) -> Result<DecodeCost, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    std::panic::catch_unwind(|| {
        let (reader, _) = open(bytes)?;
        let decoder = checked_decoder(reader, limits)?;
        let (width, height) = decoder.dimensions();
        Ok(DecodeCost {
            width,
            height,
            bytes: decoder.total_bytes(),
        })
    })
    .unwrap_or_else(|_| Err(ImageError::Corrupt("the decoder panicked".to_string())))
}

/// A reader over the upload held in memory.
type UploadReader<'a> = ImageReader<Cursor<&'a [u8]>>;

/// Guesses the format from the content (never the name or the client's content type) and
/// refuses everything but PNG, JPEG and WebP, naming SVG and HEIC explicitly.
fn open(bytes: &[u8]) -> Result<(UploadReader<'_>, ImageFormat), ImageError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    match reader.format() {
        Some(format @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) => {
            Ok((reader, format))
        }
        Some(other) => Err(ImageError::Unsupported(format_name(other))),
        None if looks_like_markup(bytes) => Err(ImageError::Unsupported(FORMAT_SVG.to_string())),
        None => match heif_brand(bytes) {
            Some(name) => Err(ImageError::Unsupported(name.to_string())),
            None => Err(ImageError::NotAnImage),
        },
    }
}

/// "GIF", "TIFF", "AVIF", ... for the refusal message.
fn format_name(format: ImageFormat) -> String {
    format
        .extensions_str()
        .first()
        .map_or_else(|| format!("{format:?}"), |ext| ext.to_ascii_uppercase())
}

/// SVG (and any HTML or XML) is text that starts with `<` once a BOM and blank space are
/// skipped, or that mentions `<svg` early on. It is refused outright: an SVG is a document that
/// can carry script, not a picture.
fn looks_like_markup(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    if start.and_then(|i| text.get(i)) == Some(&b'<') {
        return true;
    }
    let head = text.get(..4096).unwrap_or(text);
    head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"))
}

/// The ISO-BMFF brand of a HEIF-family file (`....ftypheic`), which iPhones write when the
/// camera is set to "High Efficiency". Safari usually converts it to JPEG on upload; when it
/// does not, the uploader is asked to pick "Most Compatible".
fn heif_brand(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8) != Some(b"ftyp".as_slice()) {
        return None;
    }
    // The major brand, then the compatible brands up to the end of the `ftyp` box.
    let box_len = bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes);
    let box_end = usize::try_from(box_len)
        .unwrap_or(usize::MAX)
        .min(bytes.len())
        .min(256);
    let brands = bytes.get(8..box_end.max(12)).unwrap_or_default();
    let mut found = None;
    for brand in brands.chunks_exact(4) {
        match brand {
            b"avif" | b"avis" => return Some("AVIF"),
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs"
            | b"mif1" | b"msf1" => found = Some(FORMAT_HEIC),
            _ => {}
        }
    }
    found
}

/// Whether a WebP holds a lossless (`VP8L`) rather than a lossy (`VP8 `) bitstream, found by
/// walking the RIFF chunks. Anything unexpected counts as lossy.
fn webp_is_lossless(bytes: &[u8]) -> bool {
    // "RIFF", size, "WEBP", then chunks: fourcc, little-endian size, payload padded to even.
    let mut pos: usize = 12;
    for _ in 0..64 {
        let Some(header) = pos.checked_add(8).and_then(|end| bytes.get(pos..end)) else {
            return false;
        };
        let (fourcc, size) = header.split_at(4);
        let size = <[u8; 4]>::try_from(size).map_or(0, u32::from_le_bytes);
        match fourcc {
            b"VP8L" => return true,
            b"VP8 " => return false,
            // An animation frame: a 16-byte frame header, then the frame's own chunks; the
            // first frame decides.
            b"ANMF" => {
                let frame = pos.checked_add(8 + 16);
                let fourcc = frame.and_then(|f| bytes.get(f..f.checked_add(4)?));
                return fourcc == Some(b"VP8L".as_slice());
            }
            _ => {}
        }
        let Some(size) = usize::try_from(size).ok() else {
            return false;
        };
        let Some(next) = pos
            .checked_add(8)
            .and_then(|p| p.checked_add(size))
            .and_then(|p| p.checked_add(size & 1))
        else {
            return false;
        };
        pos = next;
    }
    false
}

/// Decodes with the limits in force before the first pixel is allocated, then applies the
/// EXIF orientation (which is about to be stripped) so a portrait photo stays upright.
fn decode(reader: UploadReader<'_>, limits: &Limits) -> Result<DynamicImage, ImageError> {
    let mut decoder = checked_decoder(reader, limits)?;
    // A damaged EXIF block should not refuse an otherwise good photo: it is dropped anyway.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, limits))?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// The decoder for an upload, its header read and checked against every limit; nothing the
/// size of the picture has been allocated yet.
fn checked_decoder<'a>(
    mut reader: UploadReader<'a>,
    limits: &Limits,
) -> Result<impl ImageDecoder + 'a, ImageError> {
    let too_many_pixels = || ImageError::TooManyPixels {
        max_width: limits.max_width,
        max_height: limits.max_height,
    };
    // `image` sets no dimension limit by default. With these set, each decoder checks the
    // dimensions as soon as it has read the header (PNG right after IHDR), before any buffer
    // sized from them exists.
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);

    let decoder = reader.into_decoder().map_err(|e| decode_error(e, limits))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt(format!(
            "header declares {width}x{height}"
        )));
    }
    // Checked again here rather than trusted to every decoder, and the output buffer is checked
    // against max_alloc: `into_decoder` + `from_decoder` would not reserve it.
    if width > limits.max_width
        || height > limits.max_height
        || decoder.total_bytes() > limits.max_alloc
    {
        return Err(too_many_pixels());
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImageError::OverPixelLimit {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(decoder)
}

fn decode_error(error: image::ImageError, limits: &Limits) -> ImageError {
    match error {
        image::ImageError::Limits(_) => ImageError::TooManyPixels {
            max_width: limits.max_width,
            max_height: limits.max_height,
        },
        // An accepted format using a feature the decoder lacks (12-bit or arithmetic-coded
        // JPEG, ...): to the uploader it is a file that cannot be read.
        other => ImageError::Corrupt(other.to_string()),
    }
}

/// Whether any pixel is not fully opaque. An alpha channel that is all opaque (common in
/// screenshots) does not count, so such an image may still become a JPEG.
fn has_transparency(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageRgba8(buffer) => buffer.pixels().any(|p| p.0[3] != u8::MAX),
        DynamicImage::ImageLumaA8(buffer) => buffer.pixels().any(|p| p.0[1] != u8::MAX),
        DynamicImage::ImageRgba16(buffer) => buffer.pixels().any(|p| p.0[3] != u16::MAX),
        DynamicImage::ImageLumaA16(buffer) => buffer.pixels().any(|p| p.0[1] != u16::MAX),
        DynamicImage::ImageRgba32F(buffer) => buffer.pixels().any(|p| p.0[3] < 1.0),
        other => other.color().has_alpha(),
    }
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    let encoder = JpegEncoder::new_with_quality(&mut out, quality);
    // The encoder takes 8-bit grey or RGB; convert only when the decoder gave anything else.
    let written = match image {
        DynamicImage::ImageLuma8(buffer) => buffer.write_with_encoder(encoder),
        DynamicImage::ImageRgb8(buffer) => buffer.write_with_encoder(encoder),
        other if other.color().has_color() => other.to_rgb8().write_with_encoder(encoder),
        other => other.to_luma8().write_with_encoder(encoder),
    };
    written.map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive);
    // 8 bits per channel: 16-bit and float sources gain nothing a handler can see, and would
    // double the stored size.
    let written = match image {
        DynamicImage::ImageLuma8(buffer) => buffer.write_with_encoder(encoder),
        DynamicImage::ImageLumaA8(buffer) => buffer.write_with_encoder(encoder),
        DynamicImage::ImageRgb8(buffer) => buffer.write_with_encoder(encoder),
        DynamicImage::ImageRgba8(buffer) => buffer.write_with_encoder(encoder),
        other => {
            let color = other.color();
            match (color.has_color(), color.has_alpha()) {
                (true, true) => other.to_rgba8().write_with_encoder(encoder),
                (true, false) => other.to_rgb8().write_with_encoder(encoder),
                (false, true) => other.to_luma_alpha8().write_with_encoder(encoder),
                (false, false) => other.to_luma8().write_with_encoder(encoder),
            }
        }
    };
    written.map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::webp::WebPEncoder;
    use image::{ImageBuffer, Rgb, Rgba};

    // ---- building inputs -------------------------------------------------------------------

    fn gradient(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        }))
    }

    fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).expect("encode test input");
        out.into_inner()
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        encoded(&gradient(width, height), ImageFormat::Png)
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        encoded(&gradient(width, height), ImageFormat::Jpeg)
    }

    fn webp_lossless(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        gradient(width, height)
            .write_with_encoder(WebPEncoder::new_lossless(&mut out))
            .expect("encode webp");
        out
    }

    fn decode_output(bytes: &[u8]) -> DynamicImage {
        image::load_from_memory(bytes).expect("output decodes")
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
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

    /// Rewrites the IHDR's width and height (and its CRC, so the PNG stays well-formed).
    fn with_png_dimensions(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
        assert_eq!(&png[12..16], b"IHDR");
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    /// Rewrites the baseline SOF0 frame header's height and width.
    fn with_jpeg_dimensions(mut jpeg: Vec<u8>, width: u16, height: u16) -> Vec<u8> {
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("baseline JPEG has SOF0");
        jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
        jpeg
    }

    /// An APP1 "Exif" segment: a big-endian TIFF header, IFD0 with an Orientation tag and a
    /// GPSInfo pointer, and a GPS IFD with latitude 31°14' N (Shanghai).
    fn exif_app1(orientation: u16) -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\x00\x2A");
        tiff.extend_from_slice(&8u32.to_be_bytes()); // IFD0 offset
        // IFD0 at 8: two entries, then the next-IFD offset; 2 + 2 * 12 + 4 = 30 bytes.
        tiff.extend_from_slice(&2u16.to_be_bytes());
        tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
        tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&0x8825u16.to_be_bytes()); // GPSInfo IFD pointer
        tiff.extend_from_slice(&4u16.to_be_bytes()); // LONG
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&38u32.to_be_bytes());
        tiff.extend_from_slice(&0u32.to_be_bytes());
        // GPS IFD at 38: GPSLatitudeRef "N", GPSLatitude at 68 (3 rationals).
        assert_eq!(tiff.len(), 38);
        tiff.extend_from_slice(&2u16.to_be_bytes());
        tiff.extend_from_slice(&0x0001u16.to_be_bytes());
        tiff.extend_from_slice(&2u16.to_be_bytes()); // ASCII
        tiff.extend_from_slice(&2u32.to_be_bytes());
        tiff.extend_from_slice(b"N\0\0\0");
        tiff.extend_from_slice(&0x0002u16.to_be_bytes());
        tiff.extend_from_slice(&5u16.to_be_bytes()); // RATIONAL
        tiff.extend_from_slice(&3u32.to_be_bytes());
        tiff.extend_from_slice(&68u32.to_be_bytes());
        tiff.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(tiff.len(), 68);
        for (numerator, denominator) in [(31u32, 1u32), (14, 1), (0, 1)] {
            tiff.extend_from_slice(&numerator.to_be_bytes());
            tiff.extend_from_slice(&denominator.to_be_bytes());
        }

        let mut payload = b"Exif\0\0".to_vec();
        payload.extend_from_slice(&tiff);
        let length = u16::try_from(payload.len() + 2).expect("small segment");
        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&length.to_be_bytes());
        segment.extend_from_slice(&payload);
        segment
    }

    /// Inserts a segment right after SOI, where phones put their EXIF.
    fn with_segment(jpeg: &[u8], segment: &[u8]) -> Vec<u8> {
        assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(segment);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    /// The markers of a JPEG's segments before the scan data.
    fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
        let mut markers = Vec::new();
        let mut pos = 2;
        while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
            let marker = jpeg[pos + 1];
            markers.push(marker);
            if marker == 0xDA {
                break;
            }
            pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        }
        markers
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// xorshift64*: deterministic, dependency-free randomness for the never-panics loops.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    // ---- valid images --------------------------------------------------------------------

    #[test]
    fn png_screenshot_stays_png_with_its_dimensions_and_a_small_thumbnail() {
        let processed = process(&png(600, 400), &Limits::default()).expect("valid png");
        assert_eq!(processed.content_type, CONTENT_TYPE_PNG);
        assert_eq!((processed.width, processed.height), (600, 400));
        let output = decode_output(&processed.bytes);
        assert_eq!((output.width(), output.height()), (600, 400));
        assert_eq!(
            image::guess_format(&processed.bytes).ok(),
            Some(ImageFormat::Png)
        );
        assert_eq!(processed.thumbnail_content_type, CONTENT_TYPE_JPEG);
        let thumbnail = decode_output(&processed.thumbnail);
        assert_eq!((thumbnail.width(), thumbnail.height()), (320, 213));
    }

    #[test]
    fn jpeg_photo_stays_jpeg_with_its_dimensions_and_a_small_thumbnail() {
        let processed = process(&jpeg(300, 1000), &Limits::default()).expect("valid jpeg");
        assert_eq!(processed.content_type, CONTENT_TYPE_JPEG);
        assert_eq!((processed.width, processed.height), (300, 1000));
        let output = decode_output(&processed.bytes);
        assert_eq!((output.width(), output.height()), (300, 1000));
        assert_eq!(
            image::guess_format(&processed.bytes).ok(),
            Some(ImageFormat::Jpeg)
        );
        let thumbnail = decode_output(&processed.thumbnail);
        assert_eq!(processed.thumbnail_content_type, CONTENT_TYPE_JPEG);
        assert_eq!((thumbnail.width(), thumbnail.height()), (96, 320));
    }

    #[test]
    fn grey_jpeg_is_accepted() {
        let grey = DynamicImage::ImageLuma8(ImageBuffer::from_fn(50, 40, |x, _| {
            image::Luma([(x * 5) as u8])
        }));
        let processed =
            process(&encoded(&grey, ImageFormat::Jpeg), &Limits::default()).expect("grey jpeg");
        assert_eq!(processed.content_type, CONTENT_TYPE_JPEG);
        assert_eq!((processed.width, processed.height), (50, 40));
    }

    #[test]
    fn lossless_webp_becomes_png() {
        let input = webp_lossless(100, 60);
        assert!(webp_is_lossless(&input));
        let processed = process(&input, &Limits::default()).expect("valid webp");
        assert_eq!(processed.content_type, CONTENT_TYPE_PNG);
        assert_eq!((processed.width, processed.height), (100, 60));
        let thumbnail = decode_output(&processed.thumbnail);
        assert_eq!((thumbnail.width(), thumbnail.height()), (100, 60));
    }

    #[test]
    fn webp_lossy_and_lossless_bitstreams_are_told_apart() {
        let simple = |fourcc: &[u8; 4]| {
            let mut riff = b"RIFF\x20\0\0\0WEBP".to_vec();
            riff.extend_from_slice(fourcc);
            riff.extend_from_slice(&[4, 0, 0, 0, 1, 2, 3, 4]);
            riff
        };
        assert!(webp_is_lossless(&simple(b"VP8L")));
        assert!(!webp_is_lossless(&simple(b"VP8 ")));
        // Extended: VP8X, then ALPH, then the lossy bitstream.
        let mut extended = b"RIFF\x40\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
        extended.extend_from_slice(&[0; 10]);
        extended.extend_from_slice(b"ALPH\x03\0\0\0abc\0VP8 \x02\0\0\0xy");
        assert!(!webp_is_lossless(&extended));
        let lossless = [&extended[..extended.len() - 10], b"VP8L\x02\0\0\0xy"].concat();
        assert!(webp_is_lossless(&lossless));
        // A chunk size that runs past the end, or past usize, is not lossless.
        assert!(!webp_is_lossless(b"RIFF\0\0\0\0WEBPJUNK\xff\xff\xff\xff"));
        assert!(!webp_is_lossless(b"RIFF"));
    }

    #[test]
    fn transparent_png_keeps_a_png_thumbnail_and_opaque_alpha_does_not() {
        let transparent = DynamicImage::ImageRgba8(ImageBuffer::from_fn(400, 400, |x, _| {
            Rgba([200, 10, 10, if x < 200 { 0 } else { 255 }])
        }));
        let processed = process(&encoded(&transparent, ImageFormat::Png), &Limits::default())
            .expect("transparent png");
        assert_eq!(processed.content_type, CONTENT_TYPE_PNG);
        assert_eq!(processed.thumbnail_content_type, CONTENT_TYPE_PNG);
        assert!(decode_output(&processed.bytes).color().has_alpha());

        let opaque =
            DynamicImage::ImageRgba8(ImageBuffer::from_pixel(40, 40, Rgba([1, 2, 3, 255])));
        let processed =
            process(&encoded(&opaque, ImageFormat::Png), &Limits::default()).expect("opaque png");
        assert_eq!(processed.thumbnail_content_type, CONTENT_TYPE_JPEG);
    }

    #[test]
    fn sixteen_bit_png_is_stored_as_eight_bit() {
        let deep = DynamicImage::ImageRgb16(ImageBuffer::from_fn(30, 20, |x, y| {
            Rgb([(x * 2000) as u16, (y * 3000) as u16, 65535])
        }));
        let processed =
            process(&encoded(&deep, ImageFormat::Png), &Limits::default()).expect("16-bit png");
        assert_eq!(
            decode_output(&processed.bytes).color(),
            image::ColorType::Rgb8
        );
    }

    #[test]
    fn small_images_are_not_upscaled_for_the_thumbnail() {
        let processed = process(&png(120, 80), &Limits::default()).expect("small png");
        let thumbnail = decode_output(&processed.thumbnail);
        assert_eq!((thumbnail.width(), thumbnail.height()), (120, 80));
        // A long thin strip keeps at least one pixel across.
        let processed = process(&png(2000, 1), &Limits::default()).expect("thin png");
        let thumbnail = decode_output(&processed.thumbnail);
        assert_eq!((thumbnail.width(), thumbnail.height()), (320, 1));
    }

    // ---- fakes and unsupported formats ---------------------------------------------------

    #[test]
    fn text_named_png_is_not_an_image() {
        for input in [
            &b"hello"[..],
            b"",
            b"%PDF-1.7\n",
            b"PK\x03\x04zip",
            b"\x89PN",
        ] {
            assert!(
                matches!(
                    process(input, &Limits::default()),
                    Err(ImageError::NotAnImage)
                ),
                "{input:?}"
            );
        }
    }

    #[test]
    fn svg_and_markup_are_refused_explicitly() {
        let inputs: [&[u8]; 5] = [
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
            b"<?xml version=\"1.0\"?>\n<svg/>",
            b"\xEF\xBB\xBF  \n\t<svg onload=alert(1)>",
            b"<!DOCTYPE html><html><body>hi</body></html>",
            b"%!PS junk then <SVG></SVG>",
        ];
        for input in inputs {
            match process(input, &Limits::default()) {
                Err(ImageError::Unsupported(format)) => assert_eq!(format, "SVG"),
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn real_heic_is_refused_with_advice_to_pick_most_compatible() {
        let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        heic.extend_from_slice(&[0; 64]);
        let error = process(&heic, &Limits::default()).expect_err("heic refused");
        assert!(
            matches!(&error, ImageError::Unsupported(f) if f == "HEIC"),
            "{error:?}"
        );
        assert!(error.message_zh().contains("兼容性最佳"));

        let mif1 = b"\0\0\0\x14ftypmif1\0\0\0\0heic\0\0\0\0".to_vec();
        assert!(
            matches!(process(&mif1, &Limits::default()), Err(ImageError::Unsupported(f)) if f == "HEIC")
        );
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf\0\0\0\0".to_vec();
        assert!(
            matches!(process(&avif, &Limits::default()), Err(ImageError::Unsupported(f)) if f == "AVIF")
        );
        // A "HEIC" photo that iOS converted on upload is a JPEG body, whatever its name.
        assert!(process(&jpeg(64, 48), &Limits::default()).is_ok());
    }

    #[test]
    fn other_recognised_formats_are_unsupported_by_name() {
        let gif = encoded_gif_header();
        match process(&gif, &Limits::default()) {
            Err(ImageError::Unsupported(format)) => assert_eq!(format, "GIF"),
            other => panic!("{other:?}"),
        }
        match process(b"BM\0\0\0\0\0\0\0\0\0\0\0\0\0\0", &Limits::default()) {
            Err(ImageError::Unsupported(format)) => assert_eq!(format, "BMP"),
            other => panic!("{other:?}"),
        }
    }

    fn encoded_gif_header() -> Vec<u8> {
        let mut gif = b"GIF89a\x01\0\x01\0\x80\0\0".to_vec();
        gif.extend_from_slice(&[0, 0, 0, 255, 255, 255, b';']);
        gif
    }

    // ---- polyglots and metadata ----------------------------------------------------------

    #[test]
    fn payload_appended_to_a_png_is_not_in_the_output() {
        let html = b"<html><script>fetch('/steal?c='+document.cookie)</script></html>";
        let zip = b"PK\x03\x04\x14\0\0\0\0\0secret.txtPK\x05\x06";
        for payload in [&html[..], &zip[..]] {
            let mut input = png(64, 48);
            input.extend_from_slice(payload);
            let processed = process(&input, &Limits::default()).expect("polyglot png decodes");
            assert!(!contains(&processed.bytes, payload));
            assert!(!contains(&processed.bytes, b"<script"));
            assert!(!contains(&processed.bytes, b"PK\x03\x04"));
            assert!(!contains(&processed.thumbnail, b"<script"));
        }
    }

    #[test]
    fn payload_appended_to_a_jpeg_is_not_in_the_output() {
        let mut input = jpeg(64, 48);
        input.extend_from_slice(b"<html><script>alert(document.domain)</script></html>");
        let processed = process(&input, &Limits::default()).expect("polyglot jpeg decodes");
        assert_eq!(processed.content_type, CONTENT_TYPE_JPEG);
        assert!(!contains(&processed.bytes, b"<script"));
        assert!(!contains(&processed.bytes, b"<html"));
    }

    #[test]
    fn exif_with_gps_is_stripped_from_a_jpeg() {
        let input = with_segment(&jpeg(64, 48), &exif_app1(1));
        // The hand-made EXIF is real enough for a decoder to find it.
        let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(&input)).expect("jpeg");
        assert!(decoder.exif_metadata().expect("exif readable").is_some());
        assert!(jpeg_markers(&input).contains(&0xE1));

        let processed = process(&input, &Limits::default()).expect("jpeg with exif");
        assert!(!contains(&processed.bytes, b"Exif\0\0"));
        assert!(!jpeg_markers(&processed.bytes).contains(&0xE1));
        assert!(!contains(&processed.thumbnail, b"Exif\0\0"));
        assert!(!jpeg_markers(&processed.thumbnail).contains(&0xE1));
    }

    #[test]
    fn exif_orientation_is_applied_before_it_is_stripped() {
        // Orientation 6: the camera was turned; the stored landscape pixels display as portrait.
        let input = with_segment(&jpeg(64, 48), &exif_app1(6));
        let processed = process(&input, &Limits::default()).expect("rotated jpeg");
        assert_eq!((processed.width, processed.height), (48, 64));
        let output = decode_output(&processed.bytes);
        assert_eq!((output.width(), output.height()), (48, 64));
    }

    // ---- bombs, sizes, damage ------------------------------------------------------------

    #[test]
    fn png_declaring_60000_by_60000_fails_on_the_header() {
        // 60000² RGB would need 10 GB; the refusal must come from the limits, before any of it.
        let bomb = with_png_dimensions(png(1, 1), 60_000, 60_000);
        assert!(bomb.len() < 100);
        let error = process(&bomb, &Limits::default()).expect_err("bomb refused");
        assert!(
            matches!(error, ImageError::TooManyPixels { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn png_within_the_dimensions_but_over_the_memory_limit_fails_on_the_header() {
        let limits = Limits {
            max_width: 100_000,
            max_height: 100_000,
            ..Limits::default()
        };
        let bomb = with_png_dimensions(png(1, 1), 60_000, 60_000);
        let error = process(&bomb, &limits).expect_err("bomb refused");
        assert!(
            matches!(error, ImageError::TooManyPixels { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_picture_over_the_pixel_limit_is_refused_from_its_header_and_a_phone_photo_is_not() {
        // 8192×8000 RGBA passes the side limits but would need 262 MB decoded.
        let big = with_png_dimensions(png(1, 1), 8192, 8000);
        for error in [
            decode_cost(&big, &Limits::default()).expect_err("refused"),
            process(&big, &Limits::default()).expect_err("refused"),
        ] {
            assert!(
                matches!(
                    error,
                    ImageError::OverPixelLimit {
                        width: 8192,
                        height: 8000,
                        max_pixels: 40_000_000
                    }
                ),
                "{error:?}"
            );
            assert!(
                error.message_zh().contains("4000 万像素"),
                "{}",
                error.message_zh()
            );
        }
        // A 12 MP phone photo (4000×3000) is within every limit; its cost is its RGB buffer.
        let photo = with_jpeg_dimensions(jpeg(16, 16), 4000, 3000);
        let cost = decode_cost(&photo, &Limits::default()).expect("a phone photo passes");
        assert_eq!(
            (cost.width, cost.height, cost.bytes),
            (4000, 3000, 4000 * 3000 * 3)
        );
    }

    #[test]
    fn jpeg_declaring_65000_by_65000_fails_on_the_header() {
        let bomb = with_jpeg_dimensions(jpeg(16, 16), 65_000, 65_000);
        let error = process(&bomb, &Limits::default()).expect_err("bomb refused");
        assert!(
            matches!(error, ImageError::TooManyPixels { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn oversize_input_is_too_large_before_decoding() {
        let limits = Limits::default();
        let mut input = png(16, 16);
        input.resize(limits.max_bytes + 1, 0);
        match process(&input, &limits) {
            Err(ImageError::TooLarge { size, max }) => {
                assert_eq!((size, max), (limits.max_bytes + 1, limits.max_bytes));
            }
            other => panic!("{other:?}"),
        }
        let small = Limits {
            max_bytes: 100,
            ..Limits::default()
        };
        assert!(matches!(
            process(&png(64, 64), &small),
            Err(ImageError::TooLarge { .. })
        ));
        // Exactly at the limit is fine.
        let exact = png(8, 8);
        let at_limit = Limits {
            max_bytes: exact.len(),
            ..Limits::default()
        };
        assert!(process(&exact, &at_limit).is_ok());
    }

    #[test]
    fn truncated_png_is_corrupt_or_not_an_image() {
        let whole = png(64, 48);
        for cut in [4, 8, 20, 33, 40, whole.len() / 2, whole.len() - 13] {
            match process(&whole[..cut], &Limits::default()) {
                Err(ImageError::Corrupt(_) | ImageError::NotAnImage) => {}
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn png_declaring_zero_width_is_corrupt() {
        let zero = with_png_dimensions(png(1, 1), 0, 10);
        assert!(matches!(
            process(&zero, &Limits::default()),
            Err(ImageError::Corrupt(_))
        ));
    }

    // ---- messages ------------------------------------------------------------------------

    #[test]
    fn every_message_is_chinese() {
        let errors = [
            ImageError::TooLarge {
                size: 12_900_000,
                max: 10 * 1024 * 1024,
            },
            ImageError::NotAnImage,
            ImageError::Unsupported("SVG".to_string()),
            ImageError::Unsupported("HEIC".to_string()),
            ImageError::Unsupported("GIF".to_string()),
            ImageError::TooManyPixels {
                max_width: 8192,
                max_height: 8192,
            },
            ImageError::Corrupt("eof".to_string()),
            ImageError::Encode("io".to_string()),
        ];
        for error in &errors {
            let message = error.message_zh();
            assert!(
                message
                    .chars()
                    .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
                "{error:?}: {message}"
            );
            assert!(
                !message.contains("eof") && !message.contains("io"),
                "{message}"
            );
        }
        assert_eq!(
            errors[0].message_zh(),
            "图片太大（12.3 MB），单张不超过 10 MB，请截图或压缩后再上传"
        );
        assert!(
            errors[1]
                .message_zh()
                .contains("只支持 JPG、PNG、WebP 图片")
        );
    }

    // ---- never panics --------------------------------------------------------------------

    /// Small limits keep a mutated header from asking for a big (slow, in a debug build) decode.
    fn fuzz_limits() -> Limits {
        Limits {
            max_bytes: 1 << 20,
            max_width: 1024,
            max_height: 1024,
            max_alloc: 8 << 20,
            max_pixels: 1 << 20,
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let prefixes: [&[u8]; 7] = [
            b"",
            b"\x89PNG\r\n\x1a\n",
            b"\xFF\xD8\xFF",
            b"RIFF\x10\0\0\0WEBPVP8 ",
            b"RIFF\x10\0\0\0WEBPVP8L",
            b"\0\0\0\x18ftypheic",
            b"<svg",
        ];
        for _ in 0..2000 {
            let mut input = prefixes[rng.below(prefixes.len())].to_vec();
            let len = rng.below(300);
            input.extend(rng.bytes(len));
            let _ = process_within_size(&input, &fuzz_limits());
        }
    }

    #[test]
    fn mutated_images_never_panic() {
        let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
        let originals = [png(24, 16), jpeg(24, 16), webp_lossless(24, 16)];
        for original in &originals {
            for _ in 0..300 {
                let mut input = original.clone();
                for _ in 0..=rng.below(8) {
                    let at = rng.below(input.len());
                    input[at] = rng.next() as u8;
                }
                if rng.below(4) == 0 {
                    input.truncate(rng.below(input.len()));
                }
                let _ = process_within_size(&input, &fuzz_limits());
            }
        }
    }
}
