//! Photos: the type is decided by the content, not by what the client says, and the content must
//! be a whole image of that type.
//!
//! Magic bytes alone would let a file that starts like a JPEG and goes on as HTML (a polyglot)
//! through. So each accepted type is walked structurally, without decoding pixels:
//! - JPEG: SOI, marker segments whose lengths fit, a frame header, at least one scan (SOS with
//!   entropy-coded data), and EOI. After the EOI only what cameras really write may follow:
//!   padding (0x00 or 0xFF bytes), or further whole JPEG images, which is how the Multi-Picture
//!   Format (CIPA DC-007) stores the gain maps, depth maps and previews of current phones (Ultra
//!   HDR, portrait mode). Anything else after EOI is refused; that includes vendor trailers such
//!   as Samsung's `SEFT` block or a motion photo's video, which are not needed for a report (the
//!   web app re-encodes large photos, dropping them).
//! - PNG: the signature, then chunks whose lengths fit and whose CRC-32 match, IHDR first and
//!   valid, a palette before the data when the colour type needs one, consecutive IDAT chunks,
//!   no unknown critical chunk, IEND last with nothing after it.
//! - WebP: the RIFF size equals the file's, the chunks (padded to even sizes) fill the file
//!   exactly, the first is `VP8 `, `VP8L` or `VP8X`, and an image chunk is present with its
//!   signature (VP8 key frame start code, VP8L signature byte).
//!
//! Compressed data is not decompressed: what is checked is the container, which is what a
//! browser or a sniffer looks at. Metadata chunks may still hold any bytes; the server serves
//! photos with their checked type and `X-Content-Type-Options: nosniff`.

use crate::DomainError;

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;
/// Most photos on one report or result.
pub const MAX_PHOTOS: usize = 9;
/// Most images in one JPEG file (the primary image and its Multi-Picture Format companions).
const MAX_JPEG_IMAGES: usize = 8;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The image type of a photo, decided by its magic bytes and checked by walking its whole
/// structure: `image/jpeg`, `image/png` or `image/webp`. Anything else, including a file whose
/// bytes are not a whole image of the type its first bytes claim, is `Invalid` on `photo`.
pub fn sniff(bytes: &[u8]) -> Result<&'static str, DomainError> {
    if bytes.is_empty() {
        return Err(DomainError::invalid("photo", "the photo is empty"));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(DomainError::invalid(
            "photo",
            format!(
                "the photo is larger than {} MB",
                MAX_PHOTO_BYTES / 1024 / 1024
            ),
        ));
    }
    let (content_type, name, checked) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ("image/jpeg", "JPEG", check_jpeg(bytes))
    } else if bytes.starts_with(&PNG_SIGNATURE) {
        ("image/png", "PNG", check_png(bytes))
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        ("image/webp", "WebP", check_webp(bytes))
    } else {
        return Err(DomainError::invalid(
            "photo",
            "only JPEG, PNG and WebP photos are accepted",
        ));
    };
    checked.map(|()| content_type).map_err(|why| {
        DomainError::invalid(
            "photo",
            format!("the file is not a whole {name} image: {why}"),
        )
    })
}

/// Why a file is not a whole image (a short English phrase for the error message).
type Broken = &'static str;

fn u16_be(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A JPEG file: one or more whole images, then at most padding.
fn check_jpeg(bytes: &[u8]) -> Result<(), Broken> {
    let mut rest = bytes;
    for _ in 0..MAX_JPEG_IMAGES {
        rest = &rest[jpeg_image_len(rest)?..];
        if rest.iter().all(|&b| b == 0x00 || b == 0xFF) {
            return Ok(());
        }
        if !rest.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Err("data follows the end of the image");
        }
    }
    Err("too many images in one file")
}

/// The length of the JPEG image at the start of `b`, up to and including its EOI.
fn jpeg_image_len(b: &[u8]) -> Result<usize, Broken> {
    const TRUNCATED: Broken = "the file ends inside the image";
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err("no start-of-image marker");
    }
    let mut pos = 2;
    let mut frame = false;
    let mut scans = 0usize;
    loop {
        // A marker: 0xFF, any number of 0xFF fill bytes, then the marker code.
        if b.get(pos) != Some(&0xFF) {
            return Err(if pos >= b.len() {
                TRUNCATED
            } else {
                "bytes between segments that are not a marker"
            });
        }
        while b.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = b.get(pos) else {
            return Err(TRUNCATED);
        };
        pos += 1;
        match marker {
            0xD9 if scans > 0 => return Ok(pos),
            0xD9 => return Err("the image ends before any image data"),
            0xD8 => return Err("a second start-of-image marker inside the image"),
            0x00 | 0x01 | 0xD0..=0xD7 => return Err("a marker that has no place here"),
            _ => {}
        }
        let len = u16_be(b, pos).ok_or(TRUNCATED)?;
        if len < 2 {
            return Err("a segment shorter than its own length field");
        }
        let end = pos + len;
        if end > b.len() {
            return Err(TRUNCATED);
        }
        match marker {
            // Start of frame (every coding process; C4 is DHT, C8 reserved, CC is DAC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // P, Y, X, Nf, then 3 bytes per component.
                let components = *b.get(pos + 7).ok_or(TRUNCATED)? as usize;
                if components == 0 || len != 8 + 3 * components {
                    return Err("a frame header of the wrong length");
                }
                if u16_be(b, pos + 5) == Some(0) {
                    return Err("an image zero pixels wide");
                }
                if frame {
                    return Err("two frame headers in one image");
                }
                frame = true;
            }
            0xDA => {
                if !frame {
                    return Err("image data before the frame header");
                }
                let components = *b.get(pos + 2).ok_or(TRUNCATED)? as usize;
                if components == 0 || len != 6 + 2 * components {
                    return Err("a scan header of the wrong length");
                }
                let data = jpeg_entropy_len(&b[end..]).ok_or(TRUNCATED)?;
                if data == 0 {
                    return Err("a scan without image data");
                }
                scans += 1;
                pos = end + data;
                continue;
            }
            _ => {}
        }
        pos = end;
    }
}

/// The length of entropy-coded data: up to the first 0xFF that starts a marker other than a
/// restart marker (0xFF 0x00 is a stuffed data byte). None if no marker follows.
fn jpeg_entropy_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let ff = i + b.get(i..)?.iter().position(|&x| x == 0xFF)?;
        match *b.get(ff + 1)? {
            0x00 | 0xD0..=0xD7 => i = ff + 2,
            _ => return Some(ff),
        }
    }
}

/// A PNG file, chunk by chunk, CRCs checked.
fn check_png(b: &[u8]) -> Result<(), Broken> {
    const TRUNCATED: Broken = "the file ends inside a chunk";
    let mut pos = PNG_SIGNATURE.len();
    let mut first = true;
    let mut palette_needed = false;
    let mut palette = false;
    // 0: no IDAT yet, 1: inside the IDAT run, 2: after it.
    let mut idat = 0u8;
    loop {
        let len = u32_be(b, pos).ok_or(TRUNCATED)?;
        if len > i32::MAX as u32 {
            return Err("a chunk length over 2^31-1");
        }
        let len = len as usize;
        let kind: [u8; 4] = b
            .get(pos + 4..pos + 8)
            .ok_or(TRUNCATED)?
            .try_into()
            .map_err(|_| TRUNCATED)?;
        let data_start = pos + 8;
        let data_end = data_start.checked_add(len).ok_or(TRUNCATED)?;
        let crc = u32_be(b, data_end).ok_or(TRUNCATED)?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err("a chunk type that is not four letters");
        }
        if crc32fast::hash(&b[pos + 4..data_end]) != crc {
            return Err("a chunk whose CRC does not match");
        }
        let data = &b[data_start..data_end];
        pos = data_end + 4;
        if first != (&kind == b"IHDR") {
            return Err("IHDR is not the first chunk, or comes twice");
        }
        first = false;
        if idat == 1 && &kind != b"IDAT" {
            idat = 2;
        }
        match &kind {
            b"IHDR" => palette_needed = check_ihdr(data)?,
            b"PLTE" => {
                if idat > 0 || palette {
                    return Err("a palette after the image data, or twice");
                }
                if data.is_empty() || data.len() % 3 != 0 || data.len() > 256 * 3 {
                    return Err("a palette of the wrong length");
                }
                palette = true;
            }
            b"IDAT" => {
                if idat == 2 {
                    return Err("image data chunks that are not consecutive");
                }
                if palette_needed && !palette {
                    return Err("image data before the palette it needs");
                }
                idat = 1;
            }
            b"IEND" => {
                if idat == 0 {
                    return Err("no image data");
                }
                if !data.is_empty() {
                    return Err("an IEND chunk with data");
                }
                return if pos == b.len() {
                    Ok(())
                } else {
                    Err("data follows the end of the image")
                };
            }
            // Bit 5 of the first byte clear (upper case): critical, and unknown to decoders.
            _ if kind[0].is_ascii_uppercase() => return Err("an unknown critical chunk"),
            _ => {}
        }
    }
}

/// IHDR: sizes and a valid colour type / bit depth pair. True if the colour type needs a palette.
fn check_ihdr(d: &[u8]) -> Result<bool, Broken> {
    if d.len() != 13 {
        return Err("an IHDR chunk of the wrong length");
    }
    let (w, h) = (u32_be(d, 0).unwrap_or(0), u32_be(d, 4).unwrap_or(0));
    if w == 0 || h == 0 || w > i32::MAX as u32 || h > i32::MAX as u32 {
        return Err("an image size out of range");
    }
    let (depth, colour) = (d[8], d[9]);
    let depth_ok = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !depth_ok {
        return Err("an invalid colour type and bit depth");
    }
    if d[10] != 0 || d[11] != 0 || d[12] > 1 {
        return Err("an unknown compression, filter or interlace method");
    }
    Ok(colour == 3)
}

/// A WebP file: the RIFF container filled exactly by its chunks.
fn check_webp(b: &[u8]) -> Result<(), Broken> {
    let riff = u32_le(b, 4).ok_or("no RIFF size")? as usize;
    if riff.checked_add(8) != Some(b.len()) {
        return Err("the RIFF size does not match the file's length");
    }
    let mut pos = 12;
    let mut first = true;
    let mut image = false;
    while pos < b.len() {
        let kind: [u8; 4] = b
            .get(pos..pos + 4)
            .ok_or("the file ends inside a chunk header")?
            .try_into()
            .map_err(|_| "the file ends inside a chunk header")?;
        let len = u32_le(b, pos + 4).ok_or("the file ends inside a chunk header")? as usize;
        if !kind.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' ') {
            return Err("a chunk name that is not four characters");
        }
        let start = pos + 8;
        let end = start
            .checked_add(len)
            .filter(|e| *e <= b.len())
            .ok_or("the file ends inside a chunk")?;
        let data = &b[start..end];
        if first && !matches!(&kind, b"VP8 " | b"VP8L" | b"VP8X") {
            return Err("the first chunk is not VP8, VP8L or VP8X");
        }
        match &kind {
            // Frame tag (3 bytes, bit 0 clear for a key frame), then the start code.
            b"VP8 " => {
                if data.len() < 10 || data[0] & 1 != 0 || data[3..6] != [0x9D, 0x01, 0x2A] {
                    return Err("a VP8 chunk without a key frame");
                }
                image = true;
            }
            b"VP8L" => {
                if data.len() < 5 || data[0] != 0x2F {
                    return Err("a VP8L chunk without its signature");
                }
                image = true;
            }
            b"VP8X" if !first => return Err("a VP8X chunk that is not the first"),
            b"VP8X" if data.len() != 10 => return Err("a VP8X chunk of the wrong length"),
            // An animation frame holds its image in sub-chunks (not walked here).
            b"ANMF" => image = true,
            _ => {}
        }
        first = false;
        // Chunks are padded to an even size.
        pos = end + (len & 1);
    }
    if pos != b.len() {
        return Err("the last chunk's padding is missing");
    }
    if !image {
        return Err("no image chunk");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = include_bytes!("testdata/tiny.jpg");
    const PROGRESSIVE_JPEG: &[u8] = include_bytes!("testdata/progressive.jpg");
    const PNG: &[u8] = include_bytes!("testdata/tiny.png");
    const LOSSLESS_WEBP: &[u8] = include_bytes!("testdata/lossless.webp");
    const LOSSY_WEBP: &[u8] = include_bytes!("testdata/lossy.webp");
    const ANIMATED_WEBP: &[u8] = include_bytes!("testdata/animated.webp");

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn reason(bytes: &[u8]) -> String {
        match sniff(bytes) {
            Err(DomainError::Invalid { field, reason }) => {
                assert_eq!(field, "photo");
                reason
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// A PNG chunk with its length and CRC.
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&crc32fast::hash(&c[4..]).to_be_bytes());
        c
    }

    /// A 1×1 PNG of colour type `colour`, with `extra` chunks before the data.
    fn png(colour: u8, extra: &[Vec<u8>]) -> Vec<u8> {
        let ihdr = [0, 0, 0, 1, 0, 0, 0, 1, 8, colour, 0, 0, 0];
        // zlib: a stored block holding the filter byte and one pixel, with its Adler-32.
        let idat = [
            0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0, 0, 0x00, 0x02, 0x00, 0x01,
        ];
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(chunk(b"IHDR", &ihdr));
        for c in extra {
            out.extend_from_slice(c);
        }
        out.extend(chunk(b"IDAT", &idat));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    #[test]
    fn real_images_of_each_type_are_accepted_with_their_type() {
        assert_eq!(sniff(JPEG).unwrap(), "image/jpeg");
        assert_eq!(sniff(PROGRESSIVE_JPEG).unwrap(), "image/jpeg");
        assert_eq!(sniff(PNG).unwrap(), "image/png");
        assert_eq!(sniff(&png(0, &[])).unwrap(), "image/png");
        assert_eq!(
            sniff(&png(
                3,
                &[chunk(b"PLTE", &[1, 2, 3]), chunk(b"tEXt", b"a\0b")]
            ))
            .unwrap(),
            "image/png"
        );
        assert_eq!(sniff(LOSSLESS_WEBP).unwrap(), "image/webp");
        assert_eq!(sniff(LOSSY_WEBP).unwrap(), "image/webp");
        assert_eq!(sniff(ANIMATED_WEBP).unwrap(), "image/webp");
    }

    #[test]
    fn other_types_and_empty_files_are_refused() {
        assert!(reason(b"GIF89a").contains("only JPEG, PNG and WebP"));
        assert!(reason(b"<html>").contains("only JPEG, PNG and WebP"));
        assert!(reason(b"").contains("empty"));
        assert!(reason(&vec![0xFF; MAX_PHOTO_BYTES + 1]).contains("larger than"));
    }

    #[test]
    fn html_after_the_magic_bytes_is_refused_for_every_type() {
        let html = b"<html><script>alert(document.cookie)</script></html>";
        assert!(reason(&cat(&[&[0xFF, 0xD8, 0xFF, 0xE0], html])).contains("not a whole JPEG"));
        assert!(reason(&cat(&[&PNG_SIGNATURE, html])).contains("not a whole PNG"));
        let mut webp = cat(&[b"RIFF", &[0; 4], b"WEBP", html]);
        let size = (webp.len() as u32 - 8).to_le_bytes();
        webp[4..8].copy_from_slice(&size);
        assert!(reason(&webp).contains("not a whole WebP"));
    }

    #[test]
    fn html_after_a_whole_image_is_refused() {
        let html: &[u8] = b"<html><script>alert(1)</script></html>";
        assert!(reason(&cat(&[JPEG, html])).contains("data follows the end"));
        assert!(reason(&cat(&[PNG, html])).contains("data follows the end"));
        let mut webp = cat(&[LOSSLESS_WEBP, html]);
        assert!(reason(&webp).contains("RIFF size"));
        // Even with the RIFF size fixed, the HTML is not a chunk.
        let size = (webp.len() as u32 - 8).to_le_bytes();
        webp[4..8].copy_from_slice(&size);
        assert!(reason(&webp).contains("not a whole WebP"));
    }

    #[test]
    fn a_jpeg_may_carry_padding_and_further_images_after_its_end_as_cameras_write_them() {
        assert_eq!(sniff(&cat(&[JPEG, &[0, 0, 0xFF]])).unwrap(), "image/jpeg");
        // Multi-Picture Format: the gain map or depth map follows the primary image.
        assert_eq!(
            sniff(&cat(&[JPEG, PROGRESSIVE_JPEG])).unwrap(),
            "image/jpeg"
        );
        // A truncated companion image is not whole.
        let cut = &PROGRESSIVE_JPEG[..PROGRESSIVE_JPEG.len() - 2];
        assert!(reason(&cat(&[JPEG, cut])).contains("ends inside"));
    }

    #[test]
    fn a_jpeg_cut_short_or_with_broken_segments_is_refused() {
        for n in [3, 4, 20, JPEG.len() / 2, JPEG.len() - 1] {
            assert!(sniff(&JPEG[..n]).is_err(), "cut at {n}");
        }
        // A segment length running past the end.
        let mut long = JPEG.to_vec();
        long[4..6].copy_from_slice(&[0xFF, 0xF0]);
        assert!(reason(&long).contains("ends inside"));
        // A length below 2.
        let mut short = JPEG.to_vec();
        short[4..6].copy_from_slice(&[0, 1]);
        assert!(reason(&short).contains("shorter than its own length"));
        // SOI, EOI and nothing between.
        assert!(reason(&[0xFF, 0xD8, 0xFF, 0xD9]).contains("before any image data"));
    }

    #[test]
    fn a_png_with_a_wrong_crc_or_chunks_out_of_order_is_refused() {
        let mut bad_crc = PNG.to_vec();
        let n = bad_crc.len();
        bad_crc[n - 13] ^= 1; // inside the IDAT's CRC
        assert!(reason(&bad_crc).contains("CRC"));
        let mut no_ihdr = PNG_SIGNATURE.to_vec();
        no_ihdr.extend(chunk(b"tEXt", b"a\0b"));
        no_ihdr.extend_from_slice(&PNG[8..]);
        assert!(reason(&no_ihdr).contains("IHDR is not the first"));
        let no_idat = cat(&[&PNG[..33], &chunk(b"IEND", &[])]);
        assert!(reason(&no_idat).contains("no image data"));
        assert!(reason(&png(3, &[])).contains("before the palette"));
        assert!(reason(&png(0, &[chunk(b"ABCD", &[])])).contains("unknown critical"));
        assert!(reason(&png(7, &[])).contains("colour type"));
        for n in [8, 12, 33, PNG.len() - 1] {
            assert!(sniff(&PNG[..n]).is_err(), "cut at {n}");
        }
    }

    #[test]
    fn a_webp_whose_chunks_do_not_fill_the_riff_size_is_refused() {
        for n in [12, 16, 20, LOSSY_WEBP.len() - 1] {
            assert!(sniff(&LOSSY_WEBP[..n]).is_err(), "cut at {n}");
        }
        let mut wrong_size = LOSSY_WEBP.to_vec();
        wrong_size[4] += 2;
        assert!(reason(&wrong_size).contains("RIFF size"));
        let mut not_key = LOSSY_WEBP.to_vec();
        not_key[23..26].copy_from_slice(b"<ht");
        assert!(reason(&not_key).contains("key frame"));
        let only_exif = {
            let mut w = cat(&[b"RIFF", &[0; 4], b"WEBP"]);
            w.extend(cat(&[b"VP8X", &10u32.to_le_bytes(), &[0; 10]]));
            w.extend(cat(&[b"EXIF", &3u32.to_le_bytes(), b"abc\0"]));
            let size = (w.len() as u32 - 8).to_le_bytes();
            w[4..8].copy_from_slice(&size);
            w
        };
        assert!(reason(&only_exif).contains("no image chunk"));
    }
}
