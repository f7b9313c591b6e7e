//! How `da` fails: a message (the server's `detail` when there is one), an optional hint, and
//! the exit code scripts branch on.

use da_client::ClientError;
use std::process::ExitCode;

/// `0` ok, `1` failure, `2` usage, `3` authentication/authorisation, `4` not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Failure = 1,
    Usage = 2,
    Auth = 3,
    NotFound = 4,
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
    /// The HTTP status, when the server refused.
    pub status: Option<u16>,
}

impl CliError {
    fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            hint: None,
            status: None,
        }
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Exit::Failure, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(Exit::Auth, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A server refusal, or a transport failure talking to `server`.
    pub fn from_client(err: ClientError, server: &str) -> Self {
        match err {
            ClientError::Api { status, error } => {
                let exit = match status {
                    401 | 403 => Exit::Auth,
                    404 => Exit::NotFound,
                    _ => Exit::Failure,
                };
                CliError {
                    status: Some(status),
                    ..Self::new(exit, error.detail)
                }
            }
            ClientError::Transport(cause) => {
                Self::failure(format!("cannot reach {server}: {cause}")).with_hint(
                    "check the URL (`da config get server`, --server or DA_SERVER) and that the server is running",
                )
            }
            ClientError::Decode(cause) => Self::failure(format!(
                "{server} answered something that is not a da server's answer: {cause}"
            )),
        }
    }

    pub fn print_and_exit_code(&self) -> ExitCode {
        // A server's message can echo what someone typed: never let it drive the terminal.
        eprintln!("da: {}", crate::printable::printable(&self.message));
        if let Some(hint) = &self.hint {
            eprintln!("hint: {}", crate::printable::printable(hint));
        }
        ExitCode::from(self.exit as u8)
    }
}
