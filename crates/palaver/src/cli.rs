//! Command-line interface. Flags and `PALAVER_*` variables form the top configuration layers
//! (flags win); `--config FILE` adds a TOML layer below them.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use palaver::config::{Config, Layer};
use palaver::App;
use palaver_domain::platform::imports::ImportTarget;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(
    name = "palaver",
    version,
    about = "Self-hosted chat and bot platform server"
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "PALAVER_CONFIG")]
    config: Option<PathBuf>,
    /// Every setting, as a flag or a `PALAVER_*` variable (see the README's table).
    #[command(flatten)]
    settings: Layer,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (migrates, and bootstraps an empty database).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Content API accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Platform API applications.
    #[command(subcommand)]
    App(AppCommand),
    /// Import a JSON array file into an application as `POST /imports/...` does, showing
    /// progress; for operators moving an existing app.
    Import(Box<ImportArgs>),
}

#[derive(Subcommand)]
enum AppCommand {
    /// Create an application; prints its API key and client credentials (the secret only now).
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
    },
    /// List applications (of one organisation with --org).
    List {
        #[arg(long)]
        org: Option<String>,
    },
    /// Issue a new client secret; tokens granted with the old one stop working.
    RotateSecret {
        #[arg(long)]
        app: i64,
    },
}

/// What `palaver import` reads.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ImportWhat {
    Users,
    Channels,
    Members,
    Messages,
}

#[derive(Args)]
struct ImportArgs {
    /// What the file holds: users, channels, members (of --channel) or messages.
    #[arg(value_enum)]
    what: ImportWhat,
    /// The application to import into.
    #[arg(long)]
    app: i64,
    /// For members: the channel they join.
    #[arg(long)]
    channel: Option<i64>,
    /// A JSON array of elements, as `POST /imports/...` takes it.
    file: PathBuf,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List organisations.
    List,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account in an organisation.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, hide_env_values = true)]
        password: String,
        /// superadmin, owner or customer.
        #[arg(long)]
        role: String,
        /// The bot of a customer (bot user) account.
        #[arg(long)]
        bot: Option<String>,
    },
}

/// The file's layer (when given), then the flags' and variables' layer.
fn config(cli: &Cli) -> anyhow::Result<Config> {
    let mut layers = Vec::new();
    if let Some(path) = &cli.config {
        layers.push(Layer::from_file(path)?);
    }
    layers.push(cli.settings.clone());
    Config::from_layers(&layers)
}

/// Prints a result as JSON or as one `key: value` line per field.
fn print(json_out: bool, v: &Value) {
    if json_out {
        println!("{v}");
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| print(false, i)),
        Value::Object(o) => {
            let line: Vec<String> = o
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    )
                })
                .collect();
            println!("{}", line.join("  "));
        }
        other => println!("{other}"),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = config(&cli)?;
    let app = App::build(config).await?;
    let fail = |e: palaver_service::ServiceError| anyhow::anyhow!(e.into_domain().message);
    match &cli.command {
        Command::Serve => serve(app, cli.json).await,
        Command::Import(a) => {
            let target = match a.what {
                ImportWhat::Users => ImportTarget::Users,
                ImportWhat::Channels => ImportTarget::Channels,
                ImportWhat::Members => ImportTarget::ChannelMembers,
                ImportWhat::Messages => ImportTarget::Messages,
            };
            crate::import::run(&app, target, a.app, a.channel, &a.file, cli.json).await
        }
        Command::Migrate => {
            print(cli.json, &json!({ "migrated": true }));
            Ok(())
        }
        Command::Org(OrgCommand::Create { name }) => {
            let org = app.services.operator.create_org(name).await.map_err(fail)?;
            print(cli.json, &Value::Object(org));
            Ok(())
        }
        Command::Org(OrgCommand::List) => {
            let orgs = app.services.operator.list_orgs().await.map_err(fail)?;
            print(
                cli.json,
                &Value::Array(orgs.into_iter().map(Value::Object).collect()),
            );
            Ok(())
        }
        Command::App(AppCommand::Create { org, name }) => {
            let created = app
                .services
                .platform
                .create_application(org, name, None)
                .await
                .map_err(fail)?;
            let mut shown = application_json(&created.app);
            shown["client_secret"] = json!(created.client_secret);
            print(cli.json, &shown);
            Ok(())
        }
        Command::App(AppCommand::List { org }) => {
            let apps = app
                .services
                .platform
                .list_applications(org.as_deref())
                .await
                .map_err(fail)?;
            print(
                cli.json,
                &Value::Array(apps.iter().map(application_json).collect()),
            );
            Ok(())
        }
        Command::App(AppCommand::RotateSecret { app: id }) => {
            let secret = app
                .services
                .platform
                .rotate_secret(*id)
                .await
                .map_err(fail)?;
            print(cli.json, &json!({ "id": id, "client_secret": secret }));
            Ok(())
        }
        Command::Account(AccountCommand::Create {
            org,
            email,
            password,
            role,
            bot,
        }) => {
            let account = app
                .services
                .operator
                .create_account(org, email, password, role, bot.as_deref())
                .await
                .map_err(|e| {
                    let d = e.into_domain();
                    match d.details {
                        Some(details) => anyhow::anyhow!("{} {}", d.message, details["messages"]),
                        None => anyhow::anyhow!(d.message),
                    }
                })?;
            print(cli.json, &Value::Object(account));
            Ok(())
        }
    }
}

/// What the operator sees of an application (never its secret digest).
fn application_json(a: &palaver_store::platform::ApplicationRow) -> Value {
    json!({
        "id": a.id,
        "organisation_id": a.organisation_id,
        "name": a.name,
        "api_key": a.api_key,
        "client_id": a.client_id,
    })
}

async fn serve(app: App, json_out: bool) -> anyhow::Result<()> {
    if let Some(b) = app
        .bootstrap()
        .await
        .context("first-start bootstrap failed")?
    {
        let password = b
            .account
            .generated_password
            .as_deref()
            .unwrap_or("(as configured)");
        let secret = if b.generated_secret {
            b.application.client_secret.as_str()
        } else {
            "(as configured)"
        };
        let a = &b.application.app;
        if json_out {
            println!(
                "{}",
                json!({
                    "organisation_id": b.account.organisation_id,
                    "email": b.account.email,
                    "password": password,
                    "application_id": a.id,
                    "api_key": a.api_key,
                    "client_id": a.client_id,
                    "client_secret": secret,
                })
            );
        } else {
            println!(
                "First start: created organisation \"default\", its superadmin and an application."
            );
            println!("  organisation_id: {}", b.account.organisation_id);
            println!("  email:           {}", b.account.email);
            println!("  password:        {password}");
            println!("  application_id:  {}", a.id);
            println!("  api_key:         {}", a.api_key);
            println!("  client_id:       {}", a.client_id);
            println!("  client_secret:   {secret}");
            println!("  (generated secrets are shown this once)");
        }
    }
    let (addr, server) = app.serve(shutdown_signal()).await?;
    tracing::info!(%addr, "palaver listening");
    println!("Palaver listening on http://{addr}");
    server.await
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_command_takes_the_settings() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["palaver", "serve", "--listen", "0.0.0.0:80"]).unwrap();
        assert!(matches!(cli.command, Command::Serve));
        assert_eq!(config(&cli).unwrap().listen.port(), 80);
        let cli = Cli::try_parse_from([
            "palaver",
            "import",
            "users",
            "--app",
            "1",
            "users.json",
            "--files-url",
            "/srv/files",
        ])
        .unwrap();
        assert_eq!(config(&cli).unwrap().files_url, "/srv/files");
        let cli =
            Cli::try_parse_from(["palaver", "--database-url", "sqlite://x.db", "migrate"]).unwrap();
        assert_eq!(config(&cli).unwrap().database_url, "sqlite://x.db");
        assert!(Cli::try_parse_from(["palaver", "serve", "--no-such-setting", "1"]).is_err());
    }
}
