//! NOWPayments' canonical form of a JSON body: keys sorted recursively, no
//! whitespace. Number tokens are kept exactly as received: a float round trip
//! would change `0.0000012` into `1.2e-06` (Python) or `1.2e-6` (serde), and
//! the signature is over what the sender serialised, which is what it sent.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use serde_json::value::RawValue;

use super::ParseError;

/// Real IPNs nest two levels; every level re-reads its raw text, so deep
/// bodies are refused rather than paid for.
pub(crate) const MAX_DEPTH: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escape {
    /// Python's `json.dumps` default (`ensure_ascii`): all but ' '..='~' as
    /// `\uXXXX` (UTF-16 surrogate pairs above U+FFFF).
    Ascii,
    /// `JSON.stringify` (and Python with `ensure_ascii=False`): only `"`, `\`
    /// and control characters escaped.
    Utf8,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    /// The number's token as received.
    Number(Cow<'a, str>),
    String(String),
    Array(Vec<Node<'a>>),
    /// Sorted by code point, as Python's `sort_keys`; a repeated key keeps its
    /// last value, as `json.loads` does.
    Object(BTreeMap<String, Node<'a>>),
}

impl<'a> Node<'a> {
    pub(crate) fn parse(raw: &'a [u8]) -> Result<Node<'a>, ParseError> {
        let text = std::str::from_utf8(raw).map_err(|e| ParseError::NotJson(e.to_string()))?;
        let top: &'a RawValue = serde_json::from_str(text).map_err(not_json)?;
        from_raw(top, 0)
    }

    /// The tree of a value we built ourselves (signing for the sandbox); its
    /// numbers are what `serde_json` writes for them.
    pub(crate) fn from_value(v: &Value) -> Node<'static> {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(Cow::Owned(n.to_string())),
            Value::String(s) => Node::String(s.clone()),
            Value::Array(items) => Node::Array(items.iter().map(Node::from_value).collect()),
            Value::Object(map) => Node::Object(map.iter().map(|(k, v)| (k.clone(), Node::from_value(v))).collect()),
        }
    }

    pub(crate) fn render(&self, esc: Escape) -> String {
        let mut out = String::new();
        self.write(&mut out, esc);
        out
    }

    fn write(&self, out: &mut String, esc: Escape) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Number(token) => out.push_str(token),
            Node::String(s) => write_str(out, s, esc),
            Node::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out, esc);
                }
                out.push(']');
            }
            Node::Object(map) => {
                out.push('{');
                for (i, (key, value)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, key, esc);
                    out.push(':');
                    value.write(out, esc);
                }
                out.push('}');
            }
        }
    }
}

fn from_raw<'a>(raw: &'a RawValue, depth: usize) -> Result<Node<'a>, ParseError> {
    let text = raw.get();
    let nested = matches!(text.as_bytes().first(), Some(b'{' | b'['));
    if nested && depth >= MAX_DEPTH {
        return Err(ParseError::TooDeep(MAX_DEPTH));
    }
    Ok(match text.as_bytes().first() {
        Some(b'{') => {
            let map: BTreeMap<String, &'a RawValue> = serde_json::from_str(text).map_err(not_json)?;
            let mut out = BTreeMap::new();
            for (key, value) in map {
                out.insert(key, from_raw(value, depth + 1)?);
            }
            Node::Object(out)
        }
        Some(b'[') => {
            let items: Vec<&'a RawValue> = serde_json::from_str(text).map_err(not_json)?;
            Node::Array(items.into_iter().map(|v| from_raw(v, depth + 1)).collect::<Result<_, _>>()?)
        }
        Some(b'"') => Node::String(serde_json::from_str(text).map_err(not_json)?),
        Some(b't') => Node::Bool(true),
        Some(b'f') => Node::Bool(false),
        Some(b'n') => Node::Null,
        // serde_json has checked the grammar: anything else is a number.
        _ => Node::Number(Cow::Borrowed(text)),
    })
}

fn not_json(e: serde_json::Error) -> ParseError {
    ParseError::NotJson(e.to_string())
}

fn write_str(out: &mut String, s: &str, esc: Escape) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (esc == Escape::Ascii && !(' '..='~').contains(&c)) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(raw: &str, esc: Escape) -> String {
        Node::parse(raw.as_bytes()).unwrap().render(esc)
    }

    #[test]
    fn sorts_recursively_and_drops_whitespace() {
        let raw = r#" { "b" : [ 1 , { "z" : null , "a" : true } ] , "a" : { "y" : false, "x" : "s" } } "#;
        assert_eq!(canon(raw, Escape::Ascii), r#"{"a":{"x":"s","y":false},"b":[1,{"a":true,"z":null}]}"#);
    }

    #[test]
    fn keeps_number_tokens_verbatim() {
        let raw = r#"{"a":0.0000012,"b":1e-7,"c":2.50E+1,"d":-0,"e":12345678901234567890123}"#;
        assert_eq!(canon(raw, Escape::Ascii), raw);
    }

    #[test]
    fn escapes_like_python_or_like_json_stringify() {
        let raw = "{\"k\":\"\\u00e9\u{263a}\u{1F600}\\u0001\u{7f}\\\"\\\\\\/\\n\"}";
        assert_eq!(canon(raw, Escape::Ascii), r#"{"k":"\u00e9\u263a\ud83d\ude00\u0001\u007f\"\\/\n"}"#);
        assert_eq!(canon(raw, Escape::Utf8), "{\"k\":\"\u{e9}\u{263a}\u{1F600}\\u0001\u{7f}\\\"\\\\/\\n\"}");
    }

    #[test]
    fn repeated_key_keeps_the_last_value() {
        assert_eq!(canon(r#"{"a":1,"a":2}"#, Escape::Ascii), r#"{"a":2}"#);
    }

    #[test]
    fn refuses_what_is_not_json_or_too_deep() {
        for bad in ["", "{", "{\"a\":1} x", "\u{feff}{}", "NaN", "{\"a\":\"\\ud800\"}"] {
            assert!(Node::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(Node::parse(b"\xff").is_err());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(Node::parse(deep.as_bytes()), Err(ParseError::TooDeep(MAX_DEPTH)));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Node::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn a_value_renders_like_its_serialisation() {
        let v = serde_json::json!({"b": 0.5, "a": ["é", 7, null]});
        let from_text = canon(&serde_json::to_string(&v).unwrap(), Escape::Ascii);
        assert_eq!(Node::from_value(&v).render(Escape::Ascii), from_text);
    }
}
