//! Text from users or servers made safe to show. Control characters could
//! move a terminal's cursor or start a CI workflow command on a new line;
//! invisible and text-direction characters (U+202E reverses the text after
//! it) make a name or URL display as something it is not, so a reviewer
//! could not trust what a plan shows. Both are shown escaped (`\u{202e}`).

use std::borrow::Cow;

/// Whether `c` is invisible or changes text direction.
pub fn is_hidden(c: char) -> bool {
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

/// Whether `c` must be escaped before it is shown.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_hidden(c)
}

/// Appends `c`, escaped if it is unsafe to show.
pub fn push_escaped(out: &mut String, c: char) {
    if is_unsafe(c) {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// `text` with every unsafe character escaped; borrowed when nothing is.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
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
