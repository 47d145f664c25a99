//! Names that only look equal. Subscription names and merchant labels are
//! compared byte for byte, so `crm`, `crm ` and `crm` with a no-break space
//! would be three subscriptions, and `café` typed two ways (NFC `é` or
//! `e` + U+0301) two: each is an error that says what to fix. A leaf.

use icu_normalizer::ComposingNormalizerBorrowed;

use crate::escape::{code_point, hidden_char};

/// Help for an invisible or text-direction character in a value.
pub(super) const HIDDEN_HELP: &str =
    "remove it: it makes the text display differently from what it is, so a reviewer of the plan could be misled";

/// Why a merchant label (the value of `field`: `merchant`, or a flag's
/// `LABEL`) is not a usable one, and how to fix it: a control character,
/// an invisible or text-direction one, or a [`look_alike`]. Whether it is
/// empty is the caller's to say.
pub(super) fn label_problem(field: &str, label: &str) -> Option<(String, String)> {
    if label.chars().any(char::is_control) {
        return Some((
            format!("`{field}` contains a control character"),
            "remove it".to_owned(),
        ));
    }
    if let Some(c) = hidden_char(label) {
        return Some((
            format!(
                "`{field}` contains the invisible or text-direction character {}",
                code_point(c)
            ),
            HIDDEN_HELP.to_owned(),
        ));
    }
    look_alike(field, label)
}

/// Why `text` (the value of `field`) could look like another text while
/// being different bytes, and how to fix it: leading or trailing
/// whitespace, a space-like character other than U+0020, or a form that
/// is not Unicode NFC. Control and invisible characters are checked
/// before this.
pub(super) fn look_alike(field: &str, text: &str) -> Option<(String, String)> {
    const SAME: &str = "names are compared byte for byte";
    if text.trim() != text {
        return Some((
            format!("`{field}` starts or ends with whitespace"),
            format!("remove it: {SAME}, so `crm ` and `crm` would be two different names"),
        ));
    }
    if let Some(c) = text.chars().find(|&c| c.is_whitespace() && c != ' ') {
        return Some((
            format!("`{field}` contains the space-like character {}", code_point(c)),
            format!("use a plain space (U+0020): {SAME}, so it would differ from the name it looks like"),
        ));
    }
    if !ComposingNormalizerBorrowed::new_nfc().is_normalized(text) {
        return Some((
            format!("`{field}` is not in Unicode normal form C (NFC)"),
            format!(
                "retype its accented letters as single characters (`é` as U+00E9, not `e` + U+0301): {SAME}, so the two forms would be two different names"
            ),
        ));
    }
    None
}
