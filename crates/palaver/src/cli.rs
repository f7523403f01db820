//! Command-line interface. Flags and `PALAVER_*` variables form the top configuration layers
//! (flags win); `--config FILE` adds a TOML layer below them.

use std::net::SocketAddr;
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
    /// Database URL: sqlite://path (default sqlite://data/palaver.db) or postgres://…
    #[arg(long, global = true, env = "PALAVER_DATABASE_URL")]
    database_url: Option<String>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (migrates, and bootstraps an empty database).
    // Boxed: its many flags would make every other command as large.
    Serve(Box<ServeArgs>),
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

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "PALAVER_LISTEN")]
    listen: Option<SocketAddr>,
    /// Email of the superadmin created on first start.
    #[arg(long, env = "PALAVER_BOOTSTRAP_EMAIL")]
    bootstrap_email: Option<String>,
    /// Username of the superadmin created on first start (default: the email's local part).
    #[arg(long, env = "PALAVER_BOOTSTRAP_USERNAME")]
    bootstrap_username: Option<String>,
    /// Origins allowed to call the content API from a browser, comma-separated (default: any).
    #[arg(long, env = "PALAVER_CONTENT_CORS_ORIGINS", value_delimiter = ',')]
    content_cors_origins: Option<Vec<String>>,
    /// Password of the superadmin created on first start (generated when absent).
    #[arg(long, env = "PALAVER_BOOTSTRAP_PASSWORD", hide_env_values = true)]
    bootstrap_password: Option<String>,
    /// Content API token life in seconds (default 1209600).
    #[arg(long, env = "PALAVER_TOKEN_TTL_SECONDS")]
    token_ttl_seconds: Option<i64>,
    /// bcrypt work factor (default 10).
    #[arg(long, env = "PALAVER_BCRYPT_COST")]
    bcrypt_cost: Option<u32>,
    /// Platform API bearer token life in seconds (default 43200).
    #[arg(long, env = "PALAVER_OAUTH_TOKEN_TTL_SECONDS")]
    oauth_token_ttl_seconds: Option<i64>,
    /// How long a platform token's resolution is kept in memory, in ms (default 1000; 0: none).
    #[arg(long, env = "PALAVER_OAUTH_TOKEN_MEMO_MILLIS")]
    oauth_token_memo_millis: Option<u64>,
    /// How long outbox events are kept, in hours (default 168; 1 to 87840).
    #[arg(long, env = "PALAVER_OUTBOX_RETENTION_HOURS")]
    outbox_retention_hours: Option<u64>,
    /// The URL clients reach this server at, for HAL links (default: from the request).
    #[arg(long, env = "PALAVER_PUBLIC_URL")]
    public_url: Option<String>,
    /// NATS server shared by several instances for real-time events (default: none, one instance).
    #[arg(long, env = "PALAVER_NATS_URL", hide_env_values = true)]
    nats_url: Option<String>,
    /// How long real-time sessions outlive their instance's last lease renewal, in seconds
    /// (default 30).
    #[arg(long, env = "PALAVER_SESSION_LEASE_SECONDS")]
    session_lease_seconds: Option<u64>,
    /// How long a dropped real-time connection's sessions wait for the client to reconnect, in
    /// seconds (default 15; 0: they end at once).
    #[arg(long, env = "PALAVER_SESSION_RESUME_SECONDS")]
    session_resume_seconds: Option<u64>,
    /// Real-time actions one connection may make per limit window (default 300; 0: no limit).
    #[arg(long, env = "PALAVER_GATEWAY_ACTION_LIMIT")]
    gateway_action_limit: Option<u32>,
    /// Real-time relays one connection may make per limit window (default 200; 0: no limit).
    #[arg(long, env = "PALAVER_GATEWAY_RELAY_LIMIT")]
    gateway_relay_limit: Option<u32>,
    /// The window of the real-time rate limits, in seconds (default 10).
    #[arg(long, env = "PALAVER_GATEWAY_LIMIT_WINDOW_SECONDS")]
    gateway_limit_window_seconds: Option<u64>,
    /// How long after its last keystrokes a user stops typing, in ms (default 5000).
    #[arg(long, env = "PALAVER_TYPING_TIMEOUT_MILLIS")]
    typing_timeout_millis: Option<u64>,
    /// Background job workers of this instance (default 2; 0: none).
    #[arg(long, env = "PALAVER_JOB_WORKERS")]
    job_workers: Option<usize>,
    /// Let outbound calls (webhook deliveries, channels' feeds) reach private, loopback and
    /// link-local addresses (default false).
    #[arg(long, env = "PALAVER_OUTBOUND_ALLOW_PRIVATE")]
    outbound_allow_private: Option<bool>,
    /// A content channel's feed fetch deadline in milliseconds (default 10000).
    #[arg(long, env = "PALAVER_FEED_TIMEOUT_MILLIS")]
    feed_timeout_millis: Option<u64>,
    /// The largest feed body a content channel reads, in bytes (default 5242880).
    #[arg(long, env = "PALAVER_FEED_MAX_BYTES")]
    feed_max_bytes: Option<u64>,
    #[command(flatten)]
    functions: FunctionArgs,
    #[command(flatten)]
    storage: StorageArgs,
    /// Largest upload accepted, in bytes (default 104857600).
    #[arg(long, env = "PALAVER_MAX_UPLOAD_BYTES")]
    max_upload_bytes: Option<u64>,
    /// Client id of the application created on first start (generated when absent).
    #[arg(long, env = "PALAVER_BOOTSTRAP_CLIENT_ID")]
    bootstrap_client_id: Option<String>,
    /// Client secret of the application created on first start (generated when absent).
    #[arg(long, env = "PALAVER_BOOTSTRAP_CLIENT_SECRET", hide_env_values = true)]
    bootstrap_client_secret: Option<String>,
    /// Serve repeated reads from memory until a write touches them (default: on for SQLite,
    /// off for PostgreSQL).
    #[arg(long, env = "PALAVER_READ_CACHE")]
    read_cache: Option<bool>,
    /// Most open database connections (default 16).
    #[arg(long, env = "PALAVER_MAX_CONNECTIONS")]
    max_connections: Option<u32>,
}

/// Where hosted files and import files are stored: for `serve`, and for `import`, which must
/// store where the server's workers read.
#[derive(Args)]
struct StorageArgs {
    /// Where hosted files go: a folder, file:///dir or s3://bucket/prefix (default ./data/files).
    #[arg(long, env = "PALAVER_FILES_URL")]
    files_url: Option<String>,
    /// Endpoint of S3-compatible storage (default: AWS).
    #[arg(long, env = "PALAVER_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// S3 region (default: AWS_REGION, else us-east-1).
    #[arg(long, env = "PALAVER_S3_REGION")]
    s3_region: Option<String>,
    /// S3 access key id (default: AWS_ACCESS_KEY_ID).
    #[arg(long, env = "PALAVER_S3_ACCESS_KEY_ID")]
    s3_access_key_id: Option<String>,
    /// S3 secret access key (default: AWS_SECRET_ACCESS_KEY).
    #[arg(long, env = "PALAVER_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    s3_secret_access_key: Option<String>,
    /// Allow an http:// S3 endpoint (default false).
    #[arg(long, env = "PALAVER_S3_ALLOW_HTTP")]
    s3_allow_http: Option<bool>,
    /// Largest import file accepted, in bytes (default 1073741824).
    #[arg(long, env = "PALAVER_MAX_IMPORT_BYTES")]
    max_import_bytes: Option<u64>,
}

/// How chat functions run.
#[derive(Args)]
struct FunctionArgs {
    /// Where function runtimes and workers' files live (default ./data/functions).
    #[arg(long, env = "PALAVER_FUNCTIONS_DIR")]
    functions_dir: Option<String>,
    /// The node executable functions run on (default node, from PATH).
    #[arg(long, env = "PALAVER_NODE_PATH")]
    node_path: Option<String>,
    /// The npm executable that installs runtime dependencies (default npm, from PATH).
    #[arg(long, env = "PALAVER_NPM_PATH")]
    npm_path: Option<String>,
    /// A non-blocking invocation's deadline, in ms (default 10000).
    #[arg(long, env = "PALAVER_FUNCTION_TIMEOUT_MILLIS")]
    function_timeout_millis: Option<u64>,
    /// The start-session function's deadline, in ms (default 5000).
    #[arg(long, env = "PALAVER_FUNCTION_SESSION_TIMEOUT_MILLIS")]
    function_session_timeout_millis: Option<u64>,
    /// Heap cap of each function worker, in MiB (default 128).
    #[arg(long, env = "PALAVER_FUNCTION_HEAP_MB")]
    function_heap_mb: Option<u32>,
    /// Function workers alive at most (default 4).
    #[arg(long, env = "PALAVER_FUNCTION_WORKERS")]
    function_workers: Option<usize>,
    /// allow or deny handlers' network connections (default allow).
    #[arg(long, env = "PALAVER_FUNCTION_NETWORK")]
    function_network: Option<String>,
    /// Runs of a failing non-blocking invocation at most (default 1).
    #[arg(long, env = "PALAVER_FUNCTION_MAX_ATTEMPTS")]
    function_max_attempts: Option<u32>,
    /// Allow file: and path dependencies in runtimes (default false).
    #[arg(long, env = "PALAVER_FUNCTION_LOCAL_DEPENDENCIES")]
    function_local_dependencies: Option<bool>,
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
    #[command(flatten)]
    storage: StorageArgs,
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

fn config(cli: &Cli, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
    let mut layers = Vec::new();
    if let Some(path) = &cli.config {
        layers.push(Layer::from_file(path)?);
    }
    let mut top = Layer {
        database_url: cli.database_url.clone(),
        ..Layer::default()
    };
    if let Some(s) = serve {
        top.listen = s.listen;
        top.bootstrap_email = s.bootstrap_email.clone();
        top.bootstrap_username = s.bootstrap_username.clone();
        top.content_cors_origins = s.content_cors_origins.clone();
        top.bootstrap_password = s.bootstrap_password.clone();
        top.token_ttl_seconds = s.token_ttl_seconds;
        top.bcrypt_cost = s.bcrypt_cost;
        top.max_connections = s.max_connections;
        top.read_cache = s.read_cache;
        top.oauth_token_ttl_seconds = s.oauth_token_ttl_seconds;
        top.oauth_token_memo_millis = s.oauth_token_memo_millis;
        top.outbox_retention_hours = s.outbox_retention_hours;
        top.public_url = s.public_url.clone();
        top.nats_url = s.nats_url.clone();
        top.session_lease_seconds = s.session_lease_seconds;
        top.session_resume_seconds = s.session_resume_seconds;
        top.gateway_action_limit = s.gateway_action_limit;
        top.gateway_relay_limit = s.gateway_relay_limit;
        top.gateway_limit_window_seconds = s.gateway_limit_window_seconds;
        top.typing_timeout_millis = s.typing_timeout_millis;
        top.job_workers = s.job_workers;
        top.outbound_allow_private = s.outbound_allow_private;
        top.feed_timeout_millis = s.feed_timeout_millis;
        top.feed_max_bytes = s.feed_max_bytes;
        let f = &s.functions;
        top.functions_dir = f.functions_dir.clone();
        top.node_path = f.node_path.clone();
        top.npm_path = f.npm_path.clone();
        top.function_timeout_millis = f.function_timeout_millis;
        top.function_session_timeout_millis = f.function_session_timeout_millis;
        top.function_heap_mb = f.function_heap_mb;
        top.function_workers = f.function_workers;
        top.function_network = f.function_network.clone();
        top.function_max_attempts = f.function_max_attempts;
        top.function_local_dependencies = f.function_local_dependencies;
        top.max_upload_bytes = s.max_upload_bytes;
        top.bootstrap_client_id = s.bootstrap_client_id.clone();
        top.bootstrap_client_secret = s.bootstrap_client_secret.clone();
    }
    let storage = match &cli.command {
        Command::Serve(a) => Some(&a.storage),
        Command::Import(a) => Some(&a.storage),
        _ => None,
    };
    if let Some(s) = storage {
        top.files_url = s.files_url.clone();
        top.s3_endpoint = s.s3_endpoint.clone();
        top.s3_region = s.s3_region.clone();
        top.s3_access_key_id = s.s3_access_key_id.clone();
        top.s3_secret_access_key = s.s3_secret_access_key.clone();
        top.s3_allow_http = s.s3_allow_http;
        top.max_import_bytes = s.max_import_bytes;
    }
    layers.push(top);
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
    let serve_args = match &cli.command {
        Command::Serve(a) => Some(a.as_ref()),
        _ => None,
    };
    let config = config(&cli, serve_args)?;
    let app = App::build(config).await?;
    let fail = |e: palaver_service::ServiceError| anyhow::anyhow!(e.into_domain().message);
    match &cli.command {
        Command::Serve(_) => serve(app, cli.json).await,
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
