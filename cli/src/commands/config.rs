//! `da config get|set server`.

use crate::context::Context;
use crate::error::CliError;
use crate::output::print_json;
use crate::settings::{Config, normalize_server};

pub fn get_server(ctx: &Context) -> Result<(), CliError> {
    let config = Config::load(&ctx.paths)?;
    if ctx.json {
        return print_json(&serde_json::json!({ "server": config.server() }));
    }
    match config.server() {
        Some(server) => {
            outln!("{server}");
            Ok(())
        }
        None => Err(CliError::failure(format!(
            "server is not set in {}",
            ctx.paths.config_file().display()
        ))
        .with_hint("run `da config set server URL`")),
    }
}

pub fn set_server(ctx: &Context, url: &str) -> Result<(), CliError> {
    let url = normalize_server(url)?;
    let mut config = Config::load(&ctx.paths)?;
    config.set_server(&url);
    config.save(&ctx.paths)?;
    if ctx.json {
        return print_json(&serde_json::json!({ "server": url }));
    }
    eprintln!("server = {url}");
    Ok(())
}
