//! `manifest::load_str` on arbitrary text: it must never panic, hang or
//! accept an unsafe value, and every error must name a line in the file.
#![no_main]

use std::path::Path;

use invhooks::manifest::{load_str, Diagnostics};
use libfuzzer_sys::fuzz_target;

fn env(name: &str) -> Option<String> {
    match name {
        "CRM_BASE_URL" => Some("https://crm.example".to_owned()),
        "EMPTY" => Some(String::new()),
        "WEIRD" => Some("\u{202E}\n\u{0}".to_owned()),
        _ => None,
    }
}

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // YAML 1.2 (and its parser) breaks lines at CR LF, LF and CR; one
    // more for the end.
    let breaks = ['\n', '\r'];
    let lines = text.replace("\r\n", "\n").split(breaks).count() + 1;
    match load_str(Path::new("fuzz.yaml"), &text, &env) {
        Ok(m) => {
            for sub in &m.subscriptions {
                for value in [&sub.name, &sub.callback_url, &sub.topic] {
                    assert!(!value.is_empty());
                    assert!(
                        !value.chars().any(unsafe_char),
                        "unsafe value accepted: {value:?}"
                    );
                }
                assert!(sub.name.chars().count() <= 255);
                assert!(sub.callback_url.chars().count() <= 2048);
                let url = url::Url::parse(&sub.callback_url).expect("accepted URL parses");
                assert!(matches!(url.scheme(), "http" | "https") && url.host().is_some());
            }
        }
        Err(Diagnostics(all)) => {
            assert!(!all.is_empty());
            for d in all {
                assert!((1..=lines).contains(&d.location.line), "{d} outside 1..={lines}");
                assert!(!d.message.is_empty());
                assert!(!d.message.chars().any(|c| c == '\u{202E}' || c == '\u{0}'), "{d}");
            }
        }
    }
});
