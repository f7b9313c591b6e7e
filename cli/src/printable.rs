//! Text made safe for a terminal (a leaf module: errors and output both use it).

use da_types::validation::is_forbidden_char;
use std::borrow::Cow;

/// `text` safe for a terminal: control characters and bidi controls (which could move the
/// cursor, retitle the window, ring the bell or make text read backwards) become visible
/// escapes like `\u{1b}`. Line breaks stay, so multi-line output keeps its shape.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_forbidden_char(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c != '\n' && is_forbidden_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}
