//! The one searchable form of text: a UTF-16 unit per character, case and width folded.
//!
//! One unit per character keeps match positions equal to character positions, so highlights
//! map back onto the original text. UTF-16 holds every CJK character in two bytes, a third
//! less than UTF-8, and needs no decoding while scanning; the rare character beyond the basic
//! plane folds to U+FFFD, which no query can type.

/// Folds one character: ASCII and full-width letters to lower-case half-width, the
/// ideographic space and control characters to a space.
#[inline]
pub fn fold_char(c: char) -> u16 {
    // Most characters are ASCII or Han; neither needs the case tables.
    match c as u32 {
        0x20..=0x7E => return c.to_ascii_lowercase() as u16,
        0x3400..=0x9FFF => return c as u16,
        // Punctuation, symbols and CJK marks have no case; spare them the tables.
        0x2000..=0x23FF | 0x2500..=0x2BFF | 0x3001..=0x33FF | 0xFE30..=0xFE4F => {
            return c as u16;
        }
        _ => {}
    }
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        c if c.is_control() => ' ',
        c => c,
    };
    let c = if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) => l,
            _ => c,
        }
    };
    u16::try_from(c as u32).unwrap_or(0xFFFD)
}

pub fn fold_str(s: &str) -> Vec<u16> {
    s.chars().map(fold_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unit_per_character() {
        for s in [
            "开户失败 APP",
            "ＡＢＣ１２３",
            "𠀀x",
            "İstanbul",
            "\u{0}\u{7f}",
        ] {
            assert_eq!(fold_str(s).len(), s.chars().count(), "{s}");
        }
        assert_eq!(fold_str("ＡｐＰ　Ok"), fold_str("app ok"));
        assert_eq!(fold_str("𠀀")[0], 0xFFFD);
    }
}
