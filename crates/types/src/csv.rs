//! Query answers as CSV, written the same way by the server (`Accept: text/csv`) and the web
//! UI ("Download CSV"): RFC 4180 — CRLF line ends, a field quoted when it holds a comma, a
//! quote or a line break; NULL an empty field; nested values as their JSON.

use crate::Column;
use serde_json::Value;

fn push_field(out: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// The header line: the column names.
pub fn header(columns: &[Column]) -> String {
    let mut out = String::new();
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(&mut out, &column.name);
    }
    out.push_str("\r\n");
    out
}

/// One row's line, appended to `out`.
pub fn push_row(out: &mut String, values: &[Value]) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match value {
            Value::Null => {}
            Value::String(text) => push_field(out, text),
            other => push_field(out, &other.to_string()),
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_they_need_it() {
        let columns = [
            Column {
                name: "name".into(),
                data_type: "VARCHAR".into(),
            },
            Column {
                name: "n, m".into(),
                data_type: "BIGINT".into(),
            },
        ];
        let mut out = header(&columns);
        push_row(&mut out, &["a, \"b\"".into(), 1.into()]);
        push_row(&mut out, &[Value::Null, serde_json::json!([1, 2])]);
        push_row(&mut out, &["two\nlines".into(), 2.5.into()]);
        assert_eq!(
            out,
            "name,\"n, m\"\r\n\"a, \"\"b\"\"\",1\r\n,\"[1,2]\"\r\n\"two\nlines\",2.5\r\n"
        );
    }
}
