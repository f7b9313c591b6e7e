//! `da`: the command-line client for a da server — sign in, manage access tokens, administer
//! users, from a terminal or a CI job.
//!
//! Exit codes: 0 ok, 1 failure, 2 usage, 3 authentication/authorisation, 4 not found.

#[macro_use]
mod output;
mod commands;
mod context;
mod error;
mod printable;
mod prompt;
mod settings;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use context::Context;
use error::CliError;
use std::process::ExitCode;

/// The role names clap offers and checks, from the one list of roles.
fn roles() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(da_types::Role::ALL.map(|role| role.as_str()))
}

#[derive(Debug, Parser)]
#[command(
    name = "da",
    version,
    about = "Command-line client for a da server",
    after_help = "Server: --server > DA_SERVER > config.toml. Credential: --token > DA_TOKEN > the one stored by `da login`.\nExit codes: 0 ok, 1 failure, 2 usage, 3 not signed in / not allowed, 4 not found."
)]
struct Cli {
    /// Server URL, e.g. https://da.example.com [env: DA_SERVER]
    #[arg(long, global = true, value_name = "URL")]
    server: Option<String>,
    /// Access token to use instead of the stored credential [env: DA_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print machine-readable JSON
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in (in a browser with a code, or with email and password) and store the session
    Login(LoginArgs),
    /// Revoke the stored session and forget it
    Logout,
    /// Who you are, tokens, importing a token
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Your personal access tokens, and finding leaked ones (same as `da auth token`)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Administer users, groups, datasets, tokens and the audit log (admins)
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The datasets you may read
    #[command(subcommand)]
    Datasets(DatasetsCommand),
    /// Run one SELECT over your datasets
    Query {
        /// The SQL (or --stdin)
        sql: Option<String>,
        /// Read the SQL from stdin
        #[arg(long)]
        stdin: bool,
        #[arg(long, value_enum, default_value_t = commands::datasets::QueryFormat::Table)]
        format: commands::datasets::QueryFormat,
        /// At most this many rows (1..=100000) [default: 1000]
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Download the datasets you may read that are new or changed
    Sync {
        /// Where the files go [default: ${XDG_DATA_HOME:-~/.local/share}/da/datasets]
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Only these datasets (and nothing is removed)
        names: Vec<String>,
    },
    /// Read or change settings in config.toml
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Check that the server answers
    Health,
}

#[derive(Debug, Args)]
struct LoginArgs {
    /// Your email (asked for when missing)
    #[arg(long)]
    email: Option<String>,
    /// Read the password from stdin instead of prompting
    #[arg(long, conflicts_with = "device")]
    password_stdin: bool,
    /// Sign in with a code approved in a browser (works over SSH and without a password)
    #[arg(long)]
    device: bool,
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Show who the current credential belongs to
    Whoami,
    /// Verify a personal access token and store it for the server
    ImportToken,
    /// Your personal access tokens
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token (the secret is shown once)
    Create {
        #[arg(long)]
        name: String,
        /// Lifetime: e.g. 30d, 12h, 2w, or never [default: the server's, 90 days]
        #[arg(long, value_parser = commands::auth::parse_ttl)]
        ttl: Option<commands::auth::Ttl>,
        /// A narrower role than yours
        #[arg(long, value_parser = roles())]
        role: Option<String>,
        /// Print only the token
        #[arg(long)]
        raw: bool,
    },
    /// List your tokens
    List,
    /// Revoke one of your tokens by id, prefix or name
    Revoke {
        #[arg(value_name = "ID|PREFIX|NAME")]
        key: String,
    },
    /// Find personal access tokens in files (or stdin) without sending anything; exits 1 when
    /// it finds one. Shows where and the token's prefix, never the secret
    Scan {
        /// Files or directories to read (`-` or none: stdin)
        paths: Vec<std::path::PathBuf>,
        /// Report what was found to the server, which revokes the tokens (admin, or a
        /// DA_TOKEN holding the server's DA_LEAK_REPORT_SECRET)
        #[arg(long)]
        report: bool,
        /// Where the tokens were found, for the audit log and the owners' mail
        #[arg(long, requires = "report")]
        source: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Users
    #[command(subcommand)]
    Users(UsersCommand),
    /// Groups, the roles they grant and their members
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Datasets: upload, who may read them, delete
    #[command(subcommand)]
    Datasets(AdminDatasetsCommand),
    /// Everyone's tokens
    #[command(subcommand)]
    Tokens(AdminTokensCommand),
    /// The audit log, newest first; `verify` checks its hash chain, `export` streams it
    #[command(args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        command: Option<AuditCommand>,
        /// Only actions starting with this, e.g. `user.` or `token.revoke`
        #[arg(long, value_name = "PREFIX")]
        action: Option<String>,
        /// Only this actor (id or email)
        #[arg(long, value_name = "USER")]
        actor: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check that no row was edited, inserted or deleted behind the server's back (exits 1
    /// when one was)
    Verify,
    /// Every row as NDJSON on stdout, oldest first, with its seq and hash (for a SIEM)
    Export {
        /// Only rows after this seq (resume where the last export stopped)
        #[arg(long, value_name = "N", default_value_t = 0)]
        since_seq: u64,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// List users, ordered by email
    List {
        /// Part of an email or name
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_parser = roles())]
        role: Option<String>,
        /// Only deactivated users
        #[arg(long)]
        inactive: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Create a user; without a password they get a setup link
    Add {
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = roles())]
        role: Option<String>,
        /// Email the setup link to the user (needs SMTP on the server)
        #[arg(long)]
        invite: bool,
        /// Set an initial password read from stdin
        #[arg(long, conflicts_with = "invite")]
        password_stdin: bool,
    },
    /// Change a user's role
    SetRole {
        #[arg(value_name = "USER")]
        user: String,
        #[arg(value_parser = roles())]
        role: String,
    },
    /// Let a deactivated user sign in again
    Activate {
        #[arg(value_name = "USER")]
        user: String,
    },
    /// Lock a user out at once, sessions and tokens included
    Deactivate {
        #[arg(value_name = "USER")]
        user: String,
    },
    /// Make a password reset link for a user
    ResetPassword {
        #[arg(value_name = "USER")]
        user: String,
    },
    /// Set a user's password (asked twice, hidden)
    SetPassword {
        #[arg(value_name = "USER")]
        user: String,
        /// Read the password from stdin instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user (their audit trail stays)
    Delete {
        #[arg(value_name = "USER")]
        user: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DatasetsCommand {
    /// List them, by name
    List,
    /// One dataset and its columns
    Show { name: String },
}

#[derive(Debug, Subcommand)]
enum AdminDatasetsCommand {
    /// Upload a Parquet or CSV file as a dataset (new, or replacing the file of one)
    Put {
        name: String,
        /// A .parquet or .csv file
        file: std::path::PathBuf,
        #[arg(long)]
        description: Option<String>,
    },
    /// Change the minimum role (`none`: grants and admins only) or the description
    Set {
        name: String,
        #[arg(long, value_name = "ROLE|none")]
        min_role: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Let the members of a group read it (GROUP = id or name)
    Grant { name: String, group: String },
    /// Take a group's grant away
    Revoke { name: String, group: String },
    /// Delete it and its file
    Delete {
        name: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum GroupsCommand {
    /// List groups, ordered by name
    List {
        /// Part of the name or description
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// A group and its members
    Show {
        #[arg(value_name = "GROUP")]
        group: String,
    },
    /// Create a group
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// The role membership grants
        #[arg(long, value_parser = roles())]
        role: Option<String>,
        /// An identity-provider group value that maps onto it (repeatable)
        #[arg(long = "external-id", value_name = "VALUE")]
        external_ids: Vec<String>,
    },
    /// Change a group's name, description, role or external ids
    Update {
        #[arg(value_name = "GROUP")]
        group: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// The role membership grants
        #[arg(long, value_parser = roles(), conflicts_with = "no_role")]
        role: Option<String>,
        /// Membership grants no role any more
        #[arg(long)]
        no_role: bool,
        /// Replace the external ids with these (repeatable)
        #[arg(
            long = "external-id",
            value_name = "VALUE",
            conflicts_with = "no_external_ids"
        )]
        external_ids: Vec<String>,
        /// Remove every external id
        #[arg(long)]
        no_external_ids: bool,
    },
    /// Delete a group with its memberships
    Delete {
        #[arg(value_name = "GROUP")]
        group: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// A group's members and how they came to be in it
    Members {
        #[arg(value_name = "GROUP")]
        group: String,
    },
    /// Put a user in a group (nothing happens if they are in it)
    AddMember {
        #[arg(value_name = "GROUP")]
        group: String,
        #[arg(value_name = "USER")]
        user: String,
    },
    /// Take a user out of a group (not memberships single sign-on manages)
    RemoveMember {
        #[arg(value_name = "GROUP")]
        group: String,
        #[arg(value_name = "USER")]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdminTokensCommand {
    /// List tokens, newest first
    List {
        /// Only this owner's tokens (id or email)
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        #[arg(long, value_enum)]
        status: Option<TokenStatusArg>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Revoke anyone's token
    Revoke { id: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TokenStatusArg {
    Active,
    Expired,
    Revoked,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a setting
    Get {
        #[arg(value_parser = ["server"])]
        key: String,
    },
    /// Change a setting
    Set {
        #[arg(value_parser = ["server"])]
        key: String,
        value: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.print_and_exit_code(),
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    use commands::{admin, auth, config, datasets, groups};
    let ctx = Context::new(cli.server, cli.token, cli.json)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start: {e}")))?;
    runtime.block_on(async move {
        match cli.command {
            Command::Completions { shell } => {
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "da", &mut script);
                output::emit(&String::from_utf8_lossy(&script));
                Ok(())
            }
            Command::Config(ConfigCommand::Get { .. }) => config::get_server(&ctx),
            Command::Config(ConfigCommand::Set { value, .. }) => config::set_server(&ctx, &value),
            Command::Login(args) => {
                let method = match (args.device, args.password_stdin) {
                    (true, _) => auth::LoginMethod::Device,
                    (false, true) => auth::LoginMethod::Password { stdin: true },
                    (false, false) => auth::LoginMethod::Ask,
                };
                auth::login(&ctx, args.email, method).await
            }
            Command::Logout => auth::logout(&ctx).await,
            Command::Health => auth::health(&ctx).await,
            Command::Auth(AuthCommand::Whoami) => auth::whoami(&ctx).await,
            Command::Auth(AuthCommand::ImportToken) => auth::import_token(&ctx).await,
            Command::Auth(AuthCommand::Token(command)) | Command::Token(command) => match command {
                TokenCommand::Create {
                    name,
                    ttl,
                    role,
                    raw,
                } => auth::create_token(&ctx, name, ttl, role, raw).await,
                TokenCommand::List => auth::list_tokens(&ctx).await,
                TokenCommand::Revoke { key } => auth::revoke_token(&ctx, &key).await,
                TokenCommand::Scan {
                    paths,
                    report,
                    source,
                } => commands::scan::scan(&ctx, &paths, report, source).await,
            },
            Command::Admin(AdminCommand::Users(command)) => match command {
                UsersCommand::List {
                    search,
                    role,
                    inactive,
                    limit,
                } => admin::list_users(&ctx, search, role, inactive, limit).await,
                UsersCommand::Add {
                    email,
                    name,
                    role,
                    invite,
                    password_stdin,
                } => admin::add_user(&ctx, email, name, role, invite, password_stdin).await,
                UsersCommand::SetRole { user, role } => admin::set_role(&ctx, &user, role).await,
                UsersCommand::Activate { user } => admin::set_active(&ctx, &user, true).await,
                UsersCommand::Deactivate { user } => admin::set_active(&ctx, &user, false).await,
                UsersCommand::ResetPassword { user } => admin::reset_password(&ctx, &user).await,
                UsersCommand::SetPassword {
                    user,
                    password_stdin,
                } => admin::set_password(&ctx, &user, password_stdin).await,
                UsersCommand::Delete { user, yes } => admin::delete_user(&ctx, &user, yes).await,
            },
            Command::Datasets(DatasetsCommand::List) => datasets::list(&ctx).await,
            Command::Datasets(DatasetsCommand::Show { name }) => datasets::show(&ctx, &name).await,
            Command::Query {
                sql,
                stdin,
                format,
                limit,
            } => datasets::query(&ctx, sql, stdin, format, limit).await,
            Command::Sync { dir, names } => datasets::sync(&ctx, dir, names).await,
            Command::Admin(AdminCommand::Datasets(command)) => match command {
                AdminDatasetsCommand::Put {
                    name,
                    file,
                    description,
                } => datasets::put(&ctx, &name, &file, description).await,
                AdminDatasetsCommand::Set {
                    name,
                    min_role,
                    description,
                } => datasets::set(&ctx, &name, min_role, description).await,
                AdminDatasetsCommand::Grant { name, group } => {
                    datasets::grant(&ctx, &name, &group, false).await
                }
                AdminDatasetsCommand::Revoke { name, group } => {
                    datasets::grant(&ctx, &name, &group, true).await
                }
                AdminDatasetsCommand::Delete { name, yes } => {
                    datasets::delete(&ctx, &name, yes).await
                }
            },
            Command::Admin(AdminCommand::Groups(command)) => match command {
                GroupsCommand::List { search, limit } => groups::list(&ctx, search, limit).await,
                GroupsCommand::Show { group } => groups::show(&ctx, &group).await,
                GroupsCommand::Create {
                    name,
                    description,
                    role,
                    external_ids,
                } => {
                    let request = da_types::CreateGroupRequest {
                        name,
                        description,
                        role,
                        external_ids: Some(external_ids),
                    };
                    groups::create(&ctx, request).await
                }
                GroupsCommand::Update {
                    group,
                    name,
                    description,
                    role,
                    no_role,
                    external_ids,
                    no_external_ids,
                } => {
                    let request = da_types::UpdateGroupRequest {
                        name,
                        description,
                        role: if no_role { Some(None) } else { role.map(Some) },
                        external_ids: if no_external_ids {
                            Some(Vec::new())
                        } else {
                            (!external_ids.is_empty()).then_some(external_ids)
                        },
                    };
                    groups::update(&ctx, &group, request).await
                }
                GroupsCommand::Delete { group, yes } => groups::delete(&ctx, &group, yes).await,
                GroupsCommand::Members { group } => groups::members(&ctx, &group).await,
                GroupsCommand::AddMember { group, user } => {
                    groups::add_member(&ctx, &group, &user).await
                }
                GroupsCommand::RemoveMember { group, user } => {
                    groups::remove_member(&ctx, &group, &user).await
                }
            },
            Command::Admin(AdminCommand::Tokens(command)) => match command {
                AdminTokensCommand::List {
                    user,
                    status,
                    limit,
                } => {
                    let status = status
                        .and_then(|s| s.to_possible_value())
                        .map(|v| v.get_name().to_owned());
                    admin::list_tokens(&ctx, user, status, limit).await
                }
                AdminTokensCommand::Revoke { id } => admin::revoke_token(&ctx, &id).await,
            },
            Command::Admin(AdminCommand::Audit {
                command: Some(AuditCommand::Verify),
                ..
            }) => admin::verify_audit(&ctx).await,
            Command::Admin(AdminCommand::Audit {
                command: Some(AuditCommand::Export { since_seq }),
                ..
            }) => admin::export_audit(&ctx, since_seq).await,
            Command::Admin(AdminCommand::Audit {
                command: None,
                action,
                actor,
                limit,
            }) => admin::audit(&ctx, action, actor, limit).await,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
