//! Output for people (aligned tables, relative times) and for machines (`--json`).

use crate::error::CliError;
pub use crate::printable::printable;
use chrono::{DateTime, Utc};
use da_types::validation::is_forbidden_char;
use serde::Serialize;

/// Writes to stdout, through [`printable`]: nothing a server or user sent reaches the terminal
/// raw. A closed pipe (`da … | head`) ends the program quietly, as for any Unix filter, instead
/// of the panic `print!` would give.
pub fn emit(text: &str) {
    write_stdout(&printable(text));
}

/// Data a user asked for in a file format (`da query --format csv`): exactly as it is when
/// stdout is a file or a pipe; on a terminal through [`printable`], with CSV's CRLF line ends
/// shown as plain line ends.
pub fn emit_data(text: &str) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        write_stdout(&printable(&text.replace("\r\n", "\n")));
    } else {
        write_stdout(text);
    }
}

fn write_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("da: cannot write the output: {err}");
        std::process::exit(1);
    }
}

/// `println!` through [`emit`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::emit(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// Pretty JSON on stdout. JSON escapes C0 controls itself; the others (DEL, C1, bidi controls)
/// are written as `\uXXXX` escapes too, which parse back to the same strings.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))?;
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        // Outside strings JSON has only ASCII punctuation and whitespace, so any such
        // character is inside a string, where `\uXXXX` means the same.
        if c != '\n' && is_forbidden_char(c) {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    outln!("{escaped}");
    Ok(())
}

/// Columns padded to their widest cell; the last column is not padded.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let last = cells.len().saturating_sub(1);
            let mut out = String::new();
            for (i, cell) in cells.into_iter().enumerate() {
                out.push_str(cell);
                if i < last {
                    let pad = widths[i] - cell.chars().count() + 2;
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.trim_end().to_owned()
        };
        let mut out = line(self.headers.iter().map(String::as_str).collect());
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        out
    }

    /// The table on stdout, or `empty` on stderr when there are no rows.
    pub fn print(&self, empty: &str) {
        if self.rows.is_empty() {
            eprintln!("{empty}");
        } else {
            emit(&self.render());
        }
    }
}

/// `2026-11-22 17:04 UTC`.
pub fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `in 3 days`, `5 minutes ago`, `just now`.
pub fn relative(at: DateTime<Utc>) -> String {
    relative_to(at, Utc::now())
}

fn relative_to(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    let magnitude = seconds.unsigned_abs();
    if magnitude < 45 {
        return "just now".into();
    }
    let (count, unit) = match magnitude {
        s if s < 90 * 60 => (s.div_ceil(60).max(1), "minute"),
        s if s < 36 * 3600 => ((s + 1800) / 3600, "hour"),
        s if s < 60 * 86400 => ((s + 43200) / 86400, "day"),
        s if s < 730 * 86400 => ((s + 15 * 86400) / (30 * 86400), "month"),
        s => ((s + 182 * 86400) / (365 * 86400), "year"),
    };
    let plural = if count == 1 { "" } else { "s" };
    if seconds > 0 {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

/// A relative time, or `fallback` for none.
pub fn maybe_relative(at: Option<DateTime<Utc>>, fallback: &str) -> String {
    at.map_or_else(|| fallback.to_owned(), relative)
}

/// The own role, with the role in force when groups (or a token) make it differ.
pub fn role_in_force(own: da_types::Role, effective: da_types::Role) -> String {
    if own == effective {
        own.to_string()
    } else {
        format!("{effective} (own role {own})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn tables_align_columns() {
        let mut table = Table::new(&["NAME", "ROLE"]);
        table.row(vec!["a-long-name".into(), "admin".into()]);
        table.row(vec!["b".into(), "viewer".into()]);
        assert_eq!(
            table.render(),
            "NAME         ROLE\na-long-name  admin\nb            viewer\n"
        );
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("plain\nlines"), "plain\nlines");
        assert_eq!(
            printable("Eve\u{1b}[2J\u{7}\u{202e}x\t"),
            r"Eve\u{1b}[2J\u{7}\u{202e}x\u{9}"
        );
        let mut table = Table::new(&["NAME"]);
        table.row(vec!["a\u{1b}]0;pwned\u{7}".into()]);
        let shown = printable(&table.render()).into_owned();
        assert!(!shown.contains('\u{1b}'));
        assert!(shown.contains(r"a\u{1b}]0;pwned\u{7}"));
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc::now();
        assert_eq!(relative_to(now, now), "just now");
        assert_eq!(
            relative_to(now - Duration::minutes(5), now),
            "5 minutes ago"
        );
        assert_eq!(relative_to(now + Duration::hours(1), now), "in 60 minutes");
        assert_eq!(relative_to(now + Duration::hours(3), now), "in 3 hours");
        assert_eq!(relative_to(now + Duration::days(90), now), "in 3 months");
        assert_eq!(relative_to(now + Duration::days(30), now), "in 30 days");
        assert_eq!(relative_to(now - Duration::days(1), now), "24 hours ago");
        assert_eq!(relative_to(now + Duration::days(3650), now), "in 10 years");
    }
}
