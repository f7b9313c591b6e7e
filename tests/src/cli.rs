//! Runs the real `da` binary with a private config directory, as a person or a CI job would.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// The built `da`: `$DA_CLI_BIN`, else beside `da-server`.
pub fn cli_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DA_CLI_BIN") {
        return PathBuf::from(path);
    }
    let path = crate::server_binary().with_file_name("da");
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build` at the workspace root)",
        path.display()
    );
    path
}

/// What one run printed, and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:?}"))
    }

    /// Panics with everything printed unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code:\n{self:#?}");
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }
}

/// A `da` with its own `HOME` and `DA_CONFIG_DIR` (both temporary) and a clean environment.
pub struct Da {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
    binary: PathBuf,
}

impl Default for Da {
    fn default() -> Self {
        Self::new()
    }
}

impl Da {
    pub fn new() -> Da {
        Da {
            home: tempfile::tempdir().expect("temp home"),
            env: Vec::new(),
            binary: cli_binary(),
        }
    }

    /// Runs this binary instead of the one from the build (e.g. one `install.sh` installed).
    pub fn with_binary(mut self, binary: PathBuf) -> Da {
        self.binary = binary;
        self
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("da-config")
    }

    /// Adds an environment variable to every later run.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn remove_env(&mut self, key: &str) -> &mut Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None, &[]).await
    }

    pub async fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with(args, Some(stdin), &[]).await
    }

    /// The `da` command with this home, config dir and environment.
    fn command(&self, args: &[&str], stdin: bool, extra_env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("DA_CONFIG_DIR", self.config_dir())
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for (key, value) in extra_env {
            command.env(key, value);
        }
        command
    }

    /// Starts `da` without waiting for it (stdout and stderr piped), e.g. to read what
    /// `da login --device` shows while it waits.
    pub fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args, false, &[]).spawn().expect("start da")
    }

    /// One run with extra environment for this run only.
    pub async fn run_with(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> Output {
        let mut command = self.command(args, stdin.is_some(), extra_env);
        let mut child = command.spawn().expect("start da");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(text.as_bytes()).await.expect("write stdin");
            drop(pipe);
        }
        let output =
            tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
                .await
                .expect("da finishes within 60 s")
                .expect("da output");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `da` on a pseudo-terminal (util-linux `script`) and answers its prompts as a person
    /// would: each `(prompt, answer)` is typed once `prompt` has appeared. Returns everything the
    /// terminal showed (on `stdout`).
    pub async fn run_in_terminal(&self, args: &[&str], dialogue: &[(&str, &str)]) -> Output {
        let quote = |arg: &str| format!("'{}'", arg.replace('\'', r"'\''"));
        let command_line = std::iter::once(self.binary.to_string_lossy().into_owned())
            .chain(args.iter().map(|a| a.to_string()))
            .map(|a| quote(&a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = Command::new("script");
        command
            .args(["-qfec", &command_line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("DA_CONFIG_DIR", self.config_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start script(1)");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut shown = Vec::new();
        let mut seen = 0;
        let converse = async {
            let mut buffer = [0u8; 4096];
            for (prompt, answer) in dialogue {
                loop {
                    let text = String::from_utf8_lossy(&shown[seen..]).into_owned();
                    if let Some(at) = text.find(prompt) {
                        seen += at + prompt.len();
                        break;
                    }
                    let read = stdout.read(&mut buffer).await.expect("read the terminal");
                    assert!(
                        read > 0,
                        "da ended before asking {prompt:?}:\n{}",
                        String::from_utf8_lossy(&shown)
                    );
                    shown.extend_from_slice(&buffer[..read]);
                }
                // The prompt is printed just before echo is switched off.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                stdin
                    .write_all(format!("{answer}\r").as_bytes())
                    .await
                    .expect("type an answer");
            }
            stdout
                .read_to_end(&mut shown)
                .await
                .expect("read the terminal");
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), converse)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no dialogue within 60 s:\n{}",
                    String::from_utf8_lossy(&shown)
                )
            });
        drop(stdin);
        let output = child.wait_with_output().await.expect("da output");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&shown).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `da login` as `email` against `server`, password on stdin.
    pub async fn login(&self, server: &str, email: &str, password: &str) -> Output {
        self.run_with_stdin(
            &[
                "login",
                "--server",
                server,
                "--email",
                email,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
        .await
    }

    /// The parsed `credentials.toml` (empty when there is none).
    pub fn credentials(&self) -> toml::Table {
        self.read_toml("credentials.toml")
    }

    /// The parsed `config.toml` (empty when there is none).
    pub fn config(&self) -> toml::Table {
        self.read_toml("config.toml")
    }

    fn read_toml(&self, name: &str) -> toml::Table {
        let text = std::fs::read_to_string(self.config_dir().join(name)).unwrap_or_default();
        text.parse().expect("valid TOML")
    }
}
