//! `da token scan`: finds personal access tokens in files or stdin, offline, and with
//! `--report` hands them to the server to be revoked (`API.md` §14).

use crate::context::Context;
use crate::error::CliError;
use crate::output::{Table, print_json};
use da_types::pat_format;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are skipped (a token in a 50 MB file is a build artifact's problem).
const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// Directories never worth reading.
const SKIPPED_DIRS: [&str; 3] = [".git", "node_modules", "target"];

/// One token found: where, and the part of it that is safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub path: String,
    pub line: usize,
    pub prefix: String,
    #[serde(skip)]
    token: String,
}

/// Every well-formed token in `text`, with its line.
fn findings_in(text: &str, path: &str) -> Vec<Finding> {
    pat_format::find_in(text)
        .into_iter()
        .map(|(offset, token)| Finding {
            path: path.to_owned(),
            line: text[..offset].matches('\n').count() + 1,
            prefix: token.chars().take(12).collect(),
            token: token.to_owned(),
        })
        .collect()
}

/// The files under `path` (itself, when it is one), skipping VCS and build directories and
/// never following symbolic links.
fn files_under(path: &Path, out: &mut Vec<PathBuf>, skipped: &mut Vec<String>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        skipped.push(format!("{}: cannot read it", path.display()));
        return;
    };
    if meta.is_file() {
        out.push(path.to_owned());
    } else if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            skipped.push(format!("{}: cannot list it", path.display()));
            return;
        };
        let mut children: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        children.sort();
        for child in children {
            let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if child.is_dir() && SKIPPED_DIRS.contains(&name) {
                continue;
            }
            files_under(&child, out, skipped);
        }
    }
}

/// The text of a file worth scanning; `None` for binaries (a NUL in the first 8 KiB) and
/// oversized files.
fn readable(path: &Path) -> Result<Option<String>, std::io::Error> {
    if std::fs::metadata(path)?.len() > MAX_FILE_BYTES {
        return Ok(None);
    }
    let bytes = std::fs::read(path)?;
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn scan_paths(paths: &[PathBuf]) -> Result<(Vec<Finding>, Vec<String>), CliError> {
    let from_stdin = paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-");
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| CliError::failure(format!("cannot read stdin: {e}")))?;
        findings.extend(findings_in(&text, "<stdin>"));
    }
    let mut files = Vec::new();
    for path in paths.iter().filter(|p| p.as_os_str() != "-") {
        files_under(path, &mut files, &mut skipped);
    }
    for file in files {
        match readable(&file) {
            Ok(Some(text)) => findings.extend(findings_in(&text, &file.display().to_string())),
            Ok(None) => {}
            Err(err) => skipped.push(format!("{}: {err}", file.display())),
        }
    }
    Ok((findings, skipped))
}

pub async fn scan(
    ctx: &Context,
    paths: &[PathBuf],
    report: bool,
    source: Option<String>,
) -> Result<(), CliError> {
    let (findings, skipped) = scan_paths(paths)?;
    for note in &skipped {
        eprintln!("da: skipped {note}");
    }
    let mut outcome = None;
    if report && !findings.is_empty() {
        let session = ctx.session().await?;
        let mut tokens: Vec<String> = findings.iter().map(|f| f.token.clone()).collect();
        tokens.sort();
        tokens.dedup();
        let source = source.unwrap_or_else(|| "da token scan".to_owned());
        let mut total = da_types::LeakOutcome {
            checked: 0,
            revoked: 0,
        };
        // The server takes at most REPORT_MAX strings a report.
        for chunk in tokens.chunks(1000) {
            let request = da_types::LeakReport {
                tokens: chunk.to_vec(),
                source: Some(source.clone()),
            };
            let part = session
                .client
                .report_leaked(&request)
                .await
                .map_err(|e| session.explain(e))?;
            total.checked += part.checked;
            total.revoked += part.revoked;
        }
        outcome = Some(total);
    }
    if ctx.json {
        print_json(&serde_json::json!({ "findings": findings, "report": outcome }))?;
    } else if !findings.is_empty() {
        let mut table = Table::new(&["WHERE", "TOKEN"]);
        for finding in &findings {
            table.row(vec![
                format!("{}:{}", finding.path, finding.line),
                format!("{}…", finding.prefix),
            ]);
        }
        crate::output::emit(&table.render());
    }
    match (findings.len(), outcome) {
        (0, _) => {
            eprintln!("No personal access tokens found.");
            Ok(())
        }
        (found, Some(outcome)) => {
            eprintln!(
                "Reported {found} finding(s): {} token(s) revoked now ({} checked).",
                outcome.revoked, outcome.checked
            );
            Err(found_error(found))
        }
        (found, None) => Err(found_error(found).with_hint(
            "revoke them (`da token revoke`, or report them with `--report`) and remove them from the files",
        )),
    }
}

/// Finding a token is a failure for a hook or a CI step, with the findings already printed.
fn found_error(found: usize) -> CliError {
    CliError::failure(format!("found {found} personal access token(s)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(random: char) -> String {
        let body = format!("{}{}", pat_format::PREFIX, random.to_string().repeat(32));
        let sum = pat_format::checksum(&body);
        format!("{body}{sum}")
    }

    #[test]
    fn findings_carry_the_line_and_only_the_prefix() {
        let a = token('a');
        let text = format!("first\nDA_TOKEN={a}\n\nx = \"{}\"\n", token('b'));
        let found = findings_in(&text, "env.sh");
        assert_eq!(
            found
                .iter()
                .map(|f| (f.line, f.prefix.as_str()))
                .collect::<Vec<_>>(),
            vec![(2, "da_pat_aaaaa"), (4, "da_pat_bbbbb")]
        );
        let shown = serde_json::to_string(&found).unwrap();
        assert!(!shown.contains(&a), "{shown}");
    }

    #[test]
    fn directories_are_walked_without_vcs_and_binaries() {
        let dir = tempfile::tempdir().unwrap();
        let a = token('c');
        std::fs::write(dir.path().join("config.toml"), format!("token = \"{a}\"\n")).unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git").join("HEAD"), &a).unwrap();
        let mut binary = a.clone().into_bytes();
        binary.insert(0, 0);
        std::fs::write(dir.path().join("blob.bin"), binary).unwrap();
        let (found, skipped) = scan_paths(&[dir.path().to_owned()]).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].path.ends_with("config.toml"));
        assert!(skipped.is_empty(), "{skipped:?}");
    }
}
