//! `da`: the command-line client for a da server.
//!
//! This first version only knows `--version`, `--help` and `da health`; login, tokens and admin
//! commands follow (they will all go through `da_client`).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "da", version, about = "Command-line client for a da server")]
struct Cli {
    /// Server URL
    #[arg(
        long,
        global = true,
        env = "DA_SERVER",
        default_value = "http://127.0.0.1:8000"
    )]
    server: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that the server answers (GET /api/health)
    Health,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            ExitCode::from(2)
        }
        Some(Command::Health) => health(&cli.server),
    }
}

fn health(server: &str) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("da: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let client = da_client::Client::new(server)?;
        client.health().await
    });
    match result {
        Ok(health) => {
            println!("{server}: {}", health.status);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("da: {err}");
            ExitCode::FAILURE
        }
    }
}
