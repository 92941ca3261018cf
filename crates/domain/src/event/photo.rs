//! Photos: the type is decided by the content, not by what the client says.

use crate::DomainError;

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;
/// Most photos on one report or result.
pub const MAX_PHOTOS: usize = 9;

/// The image types accepted, by their magic bytes.
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
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Ok("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok("image/webp")
    } else {
        Err(DomainError::invalid(
            "photo",
            "only JPEG, PNG and WebP photos are accepted",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_decides_the_type() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap(),
            "image/jpeg"
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").unwrap(), "image/png");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), "image/webp");
        assert!(sniff(b"GIF89a").is_err());
        assert!(sniff(b"<html>").is_err());
        assert!(sniff(b"").is_err());
    }
}
