//! `da-server`: parse configuration, then run until SIGTERM / Ctrl-C.

use server::config::{Args, Config};
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = match Config::load(Args::from_env_and_flags()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("da-server: {err:#}");
            return ExitCode::from(2);
        }
    };
    server::startup::init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("da-server: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::startup::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("da-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}
