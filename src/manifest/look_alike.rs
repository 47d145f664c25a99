//! Names that only look equal. Names and labels are compared byte for byte,
//! so `crm`, `crm ` and `crm` with a no-break space would be three, and `café`
//! typed two ways (NFC `é` or `e` + U+0301) two: each is an error saying what to fix.

use icu_normalizer::ComposingNormalizerBorrowed;

use crate::escape::{code_point, hidden_char};

/// Help for an invisible or text-direction character in a value.
pub(super) const HIDDEN_HELP: &str =
    "remove it: it makes the text display differently from what it is, so a reviewer of the plan could be misled";

/// Why `text` is no usable name, and how to fix it; whether it is empty is the caller's to say.
pub(super) fn name_problem(field: &str, text: &str, max_chars: usize) -> Option<(String, String)> {
    const SAME: &str = "names are compared byte for byte";
    let problem = |message: &str, help: &str| Some((format!("`{field}` {message}"), help.to_owned()));
    if text.chars().any(char::is_control) {
        problem("contains a control character", "remove it")
    } else if let Some(c) = hidden_char(text) {
        let point = code_point(c);
        let message = format!("contains the invisible or text-direction character {point}");
        problem(&message, HIDDEN_HELP)
    } else if text.chars().count() > max_chars {
        let message = format!("is longer than {max_chars} characters");
        problem(&message, "use a shorter name")
    } else if text.trim() != text {
        let help = format!("remove it: {SAME}, so `crm ` and `crm` would be two different names");
        problem("starts or ends with whitespace", &help)
    } else if let Some(c) = text.chars().find(|&c| c.is_whitespace() && c != ' ') {
        let help =
            format!("use a plain space (U+0020): {SAME}, so it would differ from the name it looks like");
        let point = code_point(c);
        problem(&format!("contains the space-like character {point}"), &help)
    } else if !ComposingNormalizerBorrowed::new_nfc().is_normalized(text) {
        let help = format!("retype its accented letters as single characters (`é` as U+00E9, not `e` + U+0301): {SAME}, so the two forms would be two different names");
        problem("is not in Unicode normal form C (NFC)", &help)
    } else {
        None
    }
}
