//! Plain aligned text: key/value reports and column tables.

use serde_json::Value;

/// A JSON object as `key  value` lines: the `first` keys in that order, then
/// the rest as the API sent them (so new fields show up without a release).
pub fn print_report(v: &Value, raw: bool, first: &[&str]) {
    if raw || !v.is_object() {
        println!("{v}");
        return;
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let obj = v.as_object().into_iter().flatten();
    for key in first {
        if let Some(val) = v.get(*key) {
            rows.push(vec![key.to_string(), cell(val)]);
        }
    }
    for (key, val) in obj.filter(|(k, _)| !first.contains(&k.as_str())) {
        rows.push(vec![key.clone(), cell(val)]);
    }
    print!("{}", render(&rows, &[false, true]));
}

/// A value as one cell: strings bare, arrays comma-joined, null empty.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Rows padded to their widest cell; `right[i]` right-aligns column i
/// (numbers). The last column is not padded.
pub fn render(rows: &[Vec<String>], right: &[bool]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, text) in row.iter().enumerate() {
            let w = widths[c];
            let last = c + 1 == row.len();
            let piece = match (right.get(c).copied().unwrap_or(false), last) {
                (true, _) => format!("{text:>w$}"),
                (false, true) => text.clone(),
                (false, false) => format!("{text:<w$}"),
            };
            if c > 0 {
                line.push_str("  ");
            }
            line.push_str(&piece);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_line_up_and_numbers_go_right() {
        let rows = vec![vec!["unused".to_string(), "12".into()], vec!["assigned".into(), "3".into()]];
        assert_eq!(render(&rows, &[false, true]), "unused    12\nassigned   3\n");
    }

    #[test]
    fn cells_are_flat() {
        assert_eq!(cell(&json!(["a", "b"])), "a,b");
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!("x")), "x");
        assert_eq!(cell(&json!(-2)), "-2");
    }
}
