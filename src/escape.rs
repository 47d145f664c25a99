//! Text from users or servers made safe to show: control characters could
//! move a terminal's cursor or start a CI workflow command; invisible and
//! text-direction characters (U+202E) make a name display as another. Both
//! are shown escaped (`\u{202e}`).

use std::borrow::Cow;

/// Whether `c` is invisible or changes text direction.
fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_hidden(c)
}

/// `text` with every unsafe character escaped; borrowed when nothing is.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let escaped = text.chars().map(|c| match is_unsafe(c) {
        true => c.escape_default().to_string(),
        false => c.to_string(),
    });
    Cow::Owned(escaped.collect())
}

pub fn hidden_char(text: &str) -> Option<char> {
    text.chars().find(|&c| is_hidden(c))
}

/// How a message names a hidden character: `U+202E`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// User text made safe for a one-line message: escaped, and shortened past
/// 120 characters.
pub fn show(text: &str) -> String {
    const MAX: usize = 120;
    let more = text.chars().nth(MAX).map_or("", |_| "…");
    format!("{}{more}", escape(&text.chars().take(MAX).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_escaped_and_the_rest_kept() {
        assert!(matches!(escape("crm-sync é ✓"), Cow::Borrowed(_)));
        assert_eq!(escape("a\n::error::x"), "a\\n::error::x");
        assert_eq!(escape("\u{1b}[2Jx"), "\\u{1b}[2Jx");
        assert_eq!(escape("abc\u{202E}fed"), "abc\\u{202e}fed");
    }
}
