//! Applications' Node.js runtimes: one row each, made with defaults on first use, holding the
//! runtime's dependencies, environment variables (as the text the service gives: it seals them),
//! initialization script and version, and the state of its installation. Changes lock the row in their transaction, so that concurrent
//! ones are applied one after the other and each gets a version of its own.

use palaver_domain::platform::functions::{
    Dependencies, InstallState, Installation, RuntimeVersion,
};
use sea_query::{LockType, OnConflict, Query, SelectStatement};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::ident::col;
use crate::row::DbRow;
use crate::Ident;

/// The only runtime type there is.
pub const NODEJS: &str = "NODEJS";

/// An application's runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeRow {
    pub id: i64,
    pub application_id: i64,
    pub version: RuntimeVersion,
    pub dependencies: Dependencies,
    /// The environment variables as stored: text the service seals and opens.
    pub environment_variables: String,
    pub initialization_script: Option<String>,
    /// The install of `version` (its `version` is always the runtime's), and the newest
    /// version installed.
    pub installation: Installation,
    pub created: i64,
    pub updated: i64,
}

fn runtimes() -> Ident {
    Ident::new("runtimes")
}

const COLUMNS: [&str; 13] = [
    "id",
    "application_id",
    "version",
    "dependencies",
    "environment_variables",
    "initialization_script",
    "install_state",
    "install_output",
    "install_finished",
    "installed_version",
    "created",
    "updated",
    "type",
];

fn decode_error(column: &str) -> StoreError {
    StoreError::Decode(format!("runtimes.{column}"))
}

fn version(text: Option<String>, column: &str) -> Result<RuntimeVersion, StoreError> {
    text.as_deref()
        .and_then(RuntimeVersion::parse)
        .ok_or_else(|| decode_error(column))
}

fn read(r: &DbRow) -> Result<RuntimeRow, StoreError> {
    let current = version(r.text("version")?, "version")?;
    let state = r.text("install_state")?.unwrap_or_default();
    let installed_version = r
        .text("installed_version")?
        .map(|v| version(Some(v), "installed_version"))
        .transpose()?;
    Ok(RuntimeRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        version: current,
        dependencies: serde_json::from_str(&r.text("dependencies")?.unwrap_or_default())
            .map_err(|_| decode_error("dependencies"))?,
        environment_variables: r.text("environment_variables")?.unwrap_or_default(),
        initialization_script: r.text("initialization_script")?,
        installation: Installation {
            state: InstallState::parse(&state)
                .ok_or_else(|| StoreError::Decode("runtimes.install_state".into()))?,
            version: current,
            installed_version,
            output: r.text("install_output")?,
            finished: r.int("install_finished")?,
        },
        created: r.int("created")?.unwrap_or_default(),
        updated: r.int("updated")?.unwrap_or_default(),
    })
}

fn dependencies_text(d: &Dependencies) -> String {
    serde_json::to_string(d).unwrap_or_default()
}

/// The runtime of `app`.
fn select(app: i64) -> SelectStatement {
    let mut q = Query::select();
    q.from(runtimes())
        .columns(COLUMNS.map(Ident::new))
        .and_where(col("application_id").eq(app));
    q
}

#[derive(Debug, Clone)]
pub struct Runtimes {
    db: Db,
}

impl Runtimes {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The runtime of `app`, if it has one yet.
    pub async fn get(&self, app: i64) -> Result<Option<RuntimeRow>, StoreError> {
        self.db
            .fetch_all(&select(app))
            .await?
            .first()
            .map(read)
            .transpose()
    }

    /// The runtime of `app`, made with defaults (no dependencies, `environment_variables` as
    /// the text of none, no script, the initial version, installed) when it has none;
    /// concurrent first calls make one.
    pub async fn ensure(
        &self,
        app: i64,
        now: i64,
        environment_variables: &str,
    ) -> Result<RuntimeRow, StoreError> {
        // Read first: the runtime exists on every call but the first.
        if let Some(r) = self.get(app).await? {
            return Ok(r);
        }
        let installation = Installation::initial(now);
        let mut ins = Query::insert();
        ins.into_table(runtimes())
            .columns(
                [
                    "application_id",
                    "type",
                    "version",
                    "dependencies",
                    "environment_variables",
                    "install_state",
                    "install_finished",
                    "installed_version",
                    "created",
                    "updated",
                ]
                .map(Ident::new),
            )
            .values_panic([
                app.into(),
                NODEJS.into(),
                installation.version.to_string().into(),
                dependencies_text(&Dependencies::default()).into(),
                environment_variables.into(),
                installation.state.as_str().into(),
                installation.finished.into(),
                installation.installed_version.map(|v| v.to_string()).into(),
                now.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column(Ident::new("application_id"))
                    .do_nothing()
                    .to_owned(),
            );
        self.db.execute(&ins).await?;
        self.get(app)
            .await?
            .ok_or_else(|| StoreError::Decode("runtimes row".into()))
    }

    /// The runtime of `app`, locked until `tx` ends (on PostgreSQL; SQLite's write
    /// transactions hold the whole database already): read it, change it, [`Runtimes::save_in`].
    pub async fn lock_in(tx: &mut Tx, app: i64) -> Result<Option<RuntimeRow>, StoreError> {
        let mut q = select(app);
        q.lock(LockType::Update);
        tx.fetch_all(&q).await?.first().map(read).transpose()
    }

    /// Writes what may change of `r` (everything but its ids and creation time) inside `tx`;
    /// false when `r`'s application has no such runtime.
    pub async fn save_in(tx: &mut Tx, r: &RuntimeRow) -> Result<bool, StoreError> {
        let i = &r.installation;
        let mut q = Query::update();
        q.table(runtimes())
            .value(Ident::new("version"), r.version.to_string())
            .value(
                Ident::new("dependencies"),
                dependencies_text(&r.dependencies),
            )
            .value(
                Ident::new("environment_variables"),
                r.environment_variables.as_str(),
            )
            .value(
                Ident::new("initialization_script"),
                r.initialization_script.clone(),
            )
            .value(Ident::new("install_state"), i.state.as_str())
            .value(Ident::new("install_output"), i.output.clone())
            .value(Ident::new("install_finished"), i.finished)
            .value(
                Ident::new("installed_version"),
                i.installed_version.map(|v| v.to_string()),
            )
            .value(Ident::new("updated"), r.updated)
            .and_where(col("application_id").eq(r.application_id))
            .and_where(col("id").eq(r.id));
        Ok(tx.execute(&q).await? == 1)
    }
}
