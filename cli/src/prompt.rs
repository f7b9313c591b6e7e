//! Questions to the person at the terminal, and secrets read from stdin for scripts.

use crate::error::CliError;
use std::io::{BufRead, IsTerminal, Write};

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// One line from the terminal (echoed), e.g. an email.
pub fn line(question: &str) -> Result<String, CliError> {
    if !stdin_is_terminal() {
        return Err(CliError::usage(format!(
            "{} is needed and there is no terminal to ask",
            question.trim_end_matches([':', ' '])
        )));
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::failure(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim().to_owned())
}

/// A secret typed without echo on the terminal.
pub fn secret(question: &str, stdin_flag: &str) -> Result<String, CliError> {
    rpassword::prompt_password(question).map_err(|_| {
        CliError::usage(format!(
            "there is no terminal to ask for the secret; pipe it in with {stdin_flag}"
        ))
    })
}

/// A new password typed twice.
pub fn new_password(question: &str) -> Result<String, CliError> {
    let first = secret(question, "--password-stdin")?;
    let second = secret("Repeat it: ", "--password-stdin")?;
    if first != second {
        return Err(CliError::failure(
            "the two passwords differ; nothing was changed",
        ));
    }
    Ok(first)
}

/// All of stdin without the trailing newline (`--password-stdin`, `import-token`).
pub fn read_stdin(what: &str) -> Result<String, CliError> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut text)
        .map_err(|e| CliError::failure(format!("cannot read {what} from stdin: {e}")))?;
    let text = text.trim_end_matches(['\n', '\r']).to_owned();
    if text.is_empty() {
        return Err(CliError::usage(format!("no {what} on stdin")));
    }
    Ok(text)
}

/// Yes/no on the terminal; `false` on anything but y/yes.
pub fn confirm(question: &str) -> Result<bool, CliError> {
    let answer = line(&format!("{question} [y/N] "))?;
    Ok(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
}
