//! What a cell shows: customer columns masked by the ticket rules, bytes as hex, and no cell
//! so long that one odd column fills the handler's screen (or the server's memory).

pub use crate::domain::mask::MaskAs;

/// A longer cell is cut here and ends in `…`.
pub const MAX_CELL_CHARS: usize = 2000;

/// Bytes as PostgreSQL writes them: `\x` and lowercase hex.
pub(super) fn hex_bytes(bytes: &[u8]) -> String {
    format!("\\x{}", hex::encode(bytes))
}

/// Text when the bytes are text (UTF-8 without control characters but tab and line
/// breaks), else hex: for values of a type the lookup does not know.
pub(super) fn text_or_hex(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s)
            if !s
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
        {
            s.to_string()
        }
        _ => hex_bytes(bytes),
    }
}

/// `text` cut to [`MAX_CELL_CHARS`].
pub(super) fn capped(text: String) -> String {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mask::MASKED_WHOLE;

    #[test]
    fn customer_columns_mask_as_tickets_do() {
        let cases: &[(MaskAs, &str, &str)] = &[
            (MaskAs::Phone, "13812341234", "138****1234"),
            (MaskAs::Phone, " 13812341234 ", "138****1234"),
            (MaskAs::Phone, "021-12345678", MASKED_WHOLE),
            (MaskAs::Account, "310012345678", "3100****5678"),
            (MaskAs::Account, "31001234567x", MASKED_WHOLE),
            (MaskAs::IdNumber, "31010119900307123X", "310***********123X"),
            (MaskAs::IdNumber, "310101900307123", "310********7123"),
            (MaskAs::IdNumber, "not an id", MASKED_WHOLE),
            (MaskAs::Name, "张三丰", "张**"),
            (MaskAs::Name, "13812341234", MASKED_WHOLE),
            (MaskAs::Name, "", ""),
        ];
        for (kind, value, want) in cases {
            assert_eq!(kind.apply(value), *want, "{kind:?} {value}");
        }
    }

    #[test]
    fn mask_words_parse() {
        for (word, kind) in MaskAs::WORDS {
            assert_eq!(MaskAs::parse(word), Some(kind));
        }
        assert_eq!(MaskAs::parse("email"), None);
    }

    #[test]
    fn bytes_show_as_text_only_when_they_are() {
        assert_eq!(text_or_hex("正常".as_bytes()), "正常");
        assert_eq!(text_or_hex(&[0, 1, 0xff]), "\\x0001ff");
        assert_eq!(hex_bytes(b"ab"), "\\x6162");
    }

    #[test]
    fn long_cells_are_cut_on_a_character() {
        let long = "账".repeat(MAX_CELL_CHARS + 5);
        let cut = capped(long);
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(capped("short".into()), "short");
    }
}
