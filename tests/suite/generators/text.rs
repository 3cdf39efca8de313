//! JSON and text written the way models and SDKs write them, and read back the oracle's own
//! way (independent of `tooltape::transcript`).

use serde_json::{Value, json};

/// A JSON text: compact or spaced (`": "`, `", "`), non-ASCII raw or as `\uXXXX`.
#[must_use]
pub fn write_json(value: &Value, spaced: bool, ascii: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, value, spaced, ascii);
    out
}

fn write_value(out: &mut String, value: &Value, spaced: bool, ascii: bool) {
    let (colon, comma) = if spaced { (": ", ", ") } else { (":", ",") };
    match value {
        Value::String(s) => write_string(out, s, ascii),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_value(out, item, spaced, ascii);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_string(out, k, ascii);
                out.push_str(colon);
                write_value(out, v, spaced, ascii);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Cuts `s` at character boundaries: every one, or those `cuts` pick. Never an empty piece
/// unless `s` is empty.
#[must_use]
pub fn split_text(s: &str, cuts: &[usize], every_char: bool) -> Vec<String> {
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).collect();
    let mut points: Vec<usize> = if every_char {
        bounds.clone()
    } else if bounds.is_empty() {
        Vec::new()
    } else {
        cuts.iter().map(|c| bounds[c % bounds.len()]).collect()
    };
    points.sort_unstable();
    points.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for p in points {
        pieces.push(s[start..p].to_owned());
        start = p;
    }
    pieces.push(s[start..].to_owned());
    pieces
}

/// The text of a result content: a string as-is, text parts joined (the oracle's own reading,
/// independent of `tooltape::transcript`).
#[must_use]
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[test]
fn text_is_cut_only_between_characters() {
    assert_eq!(split_text("aé🦀", &[], true), vec!["a", "é", "🦀"]);
    assert_eq!(split_text("aé🦀", &[0, 0], false), vec!["a", "é🦀"]);
    assert_eq!(split_text("", &[3], false), vec![""]);
    assert_eq!(
        write_json(&json!({"k": "ü🦀\n"}), true, true),
        r#"{"k": "\u00fc\ud83e\udd80\n"}"#
    );
}
