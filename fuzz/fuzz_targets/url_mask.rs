//! `callback_url::CallbackUrl` and `secret::Masked` on arbitrary text: the
//! first line is a key, the rest a callback URL. Never a panic; a strict
//! parse agrees with the lenient one and has a host; what is shown is
//! printable ASCII and holds no 8-character piece of a key of 12 or more
//! characters (one without `*`, the character masking writes) that the
//! text holds only inside the key. The same property runs briefly in
//! `cargo test` (`callback_url::tests`).
#![no_main]

use invhooks::callback_url::CallbackUrl;
use invhooks::secret::{has_secret, Keys, Masked, Masking};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(data) = std::str::from_utf8(data) else { return };
    let (key, text) = data.split_once('\n').unwrap_or(("", data));
    let keys = Keys::new([key]);
    let read = CallbackUrl::read(text);
    let _ = has_secret(text);
    if let Ok(url) = CallbackUrl::parse(text) {
        assert_eq!(read.as_ref().map(CallbackUrl::as_str), Some(url.as_str()));
        assert!(url.host().is_some(), "{text:?}");
        assert!(!text.contains('\\') && !text.chars().any(|c| c.is_whitespace() || c.is_control()));
    }
    for masking in [Masking::Full, Masking::KeepPath] {
        let shown = Masked::url(text, masking, &keys);
        assert!(shown.bytes().all(|b| (0x20..0x7f).contains(&b)), "{shown}");
        if key.len() >= 12 && !key.contains('*') {
            // No 8-character piece of the key, unless the text holds that
            // piece apart from the key too.
            let (lower, shown) = (key.to_ascii_lowercase(), shown.to_ascii_lowercase());
            let elsewhere = text.to_ascii_lowercase().replace(&lower, "\u{0}");
            for piece in lower.as_bytes().windows(8).filter_map(|w| std::str::from_utf8(w).ok()) {
                assert!(!shown.contains(piece) || elsewhere.contains(piece), "{piece:?} of {key:?} in {shown}");
            }
        }
    }
});
