//! Chat functions of the caller's application: its Node.js runtime (read, made with defaults on
//! first use, and changed: each change is a patch release whose install is enqueued as a
//! `RUNTIME_INSTALL` job in the change's transaction), its functions (one per trigger), their
//! numbered versions and the record of their invocations. Besides the REST operations, what
//! running functions needs: the runtime to install and the report of its install, the function
//! a trigger runs, and the start and end of each invocation.

use palaver_domain::job::JobKind;
use palaver_domain::platform::event::Event;
use palaver_domain::platform::functions::{
    Dependencies, EnvironmentVariables, FunctionTrigger, HandlerScript, InitializationScript,
    InstallOutcome, Installation, InvocationOutcome, NewFunction, RuntimeVersion,
};
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    FunctionRow, FunctionVersionRow, Functions, InvocationEnd, InvocationRow, NewFunctionRow,
    NewInvocation, RuntimeRow as StoredRuntime, Runtimes,
};
use palaver_store::{SecretRow, StoreError};
use serde_json::{json, Map, Value};

use super::{AppPrincipal, Platform};
use crate::error::Result;
use crate::secrets;

/// Properties function pages may be sorted by (all follow creation order).
pub const FUNCTION_SORTABLE: [&str; 2] = ["id", "created_time"];
/// Properties version pages may be sorted by (all follow the version number).
pub const FUNCTION_VERSION_SORTABLE: [&str; 3] = ["id", "version_number", "created_time"];
/// Properties invocation pages may be sorted by (both follow start order).
pub const INVOCATION_SORTABLE: [&str; 2] = ["id", "created_time"];

/// An application's runtime, its environment variables opened (the store keeps them sealed).
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeRow {
    pub id: i64,
    pub application_id: i64,
    pub version: RuntimeVersion,
    pub dependencies: Dependencies,
    pub environment_variables: EnvironmentVariables,
    pub initialization_script: Option<String>,
    /// The install of `version` (its `version` is always the runtime's), and the newest
    /// version installed.
    pub installation: Installation,
    pub created: i64,
    pub updated: i64,
}

/// Where an application's environment variables are kept: what their sealed value is bound to.
fn environment_place(application_id: i64) -> String {
    secrets::place(&SecretRow::RuntimeEnvironment { application_id })
}

/// A function a trigger runs: enabled, and the version it runs (its current one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggeredFunction {
    pub function: FunctionRow,
    pub version: FunctionVersionRow,
}

/// One change of a runtime, as the three `PUT /runtimes/nodejs/...` operations make it.
#[derive(Debug, Clone)]
pub enum RuntimeChange {
    Dependencies(Dependencies),
    EnvironmentVariables(EnvironmentVariables),
    InitializationScript(InitializationScript),
}

impl RuntimeChange {
    /// What changed, as `runtime.updated` events name it.
    fn name(&self) -> &'static str {
        match self {
            RuntimeChange::Dependencies(_) => "dependencies",
            RuntimeChange::EnvironmentVariables(_) => "environment_variables",
            RuntimeChange::InitializationScript(_) => "initialization_script",
        }
    }
}

/// Refuses a script that would not run: JavaScript (TypeScript annotations allowed) with a
/// syntax error is a 400 naming where, not a function that fails on every event.
fn compiles(script: &str, field: &str) -> std::result::Result<(), DomainError> {
    palaver_functions::strip_types(script)
        .map(drop)
        .map_err(|e| {
            DomainError::new(
                ErrorCode::InvalidParameter,
                format!(
                    "{field} has a syntax error at line {}, column {}: {}",
                    e.line, e.column, e.message
                ),
            )
        })
}

fn no_function(id: i64) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("No function with id {id}"))
}

fn no_version(id: i64) -> DomainError {
    DomainError::new(
        ErrorCode::NotFound,
        format!("No function version with id {id}"),
    )
}

/// The order a page asks for: its first sort key's direction, else `default_ascending`.
fn ascending(page: &PageRequest, default_ascending: bool) -> bool {
    page.sort
        .first()
        .map_or(default_ascending, |s| !s.descending)
}

/// What running functions acts for: an application, without a caller's organisation.
fn principal(application_id: i64) -> AppPrincipal {
    AppPrincipal {
        application_id,
        organisation_id: String::new(),
    }
}

impl Platform {
    /// `GET /runtimes/nodejs`: the application's runtime, made with defaults on first use (no
    /// dependencies, no environment variables, no initialization script, version `v0.0.1`,
    /// installed: there is nothing to install).
    pub async fn nodejs_runtime(&self, p: &AppPrincipal) -> Result<RuntimeRow> {
        let stored = self.ensure_runtime(p.application_id, self.now()).await?;
        self.open_runtime(stored)
    }

    /// The stored runtime of `app`, made with defaults (its variables sealed) when it has none.
    async fn ensure_runtime(&self, app: i64, now: i64) -> Result<StoredRuntime> {
        let none = serde_json::to_string(&EnvironmentVariables::default())
            .map_err(crate::error::internal)?;
        let sealed = self
            .sealer
            .seal_text(&none, &environment_place(app))
            .map_err(crate::error::internal)?;
        Ok(self.runtimes.ensure(app, now, &sealed).await?)
    }

    /// A stored runtime with its environment variables opened.
    fn open_runtime(&self, r: StoredRuntime) -> Result<RuntimeRow> {
        let row = SecretRow::RuntimeEnvironment {
            application_id: r.application_id,
        };
        let text = self
            .sealer
            .open_text(&r.environment_variables, &secrets::place(&row))
            .map_err(|e| secrets::unopened(&row, e))?;
        let environment_variables = serde_json::from_str(&text).map_err(|_| {
            tracing::error!(
                application = r.application_id,
                "runtime variables do not parse"
            );
            DomainError::internal()
        })?;
        Ok(RuntimeRow {
            id: r.id,
            application_id: r.application_id,
            version: r.version,
            dependencies: r.dependencies,
            environment_variables,
            initialization_script: r.initialization_script,
            installation: r.installation,
            created: r.created,
            updated: r.updated,
        })
    }

    /// A runtime as stored: its environment variables sealed.
    fn seal_runtime(&self, r: &RuntimeRow) -> Result<StoredRuntime> {
        let text =
            serde_json::to_string(&r.environment_variables).map_err(crate::error::internal)?;
        let environment_variables = self
            .sealer
            .seal_text(&text, &environment_place(r.application_id))
            .map_err(crate::error::internal)?;
        Ok(StoredRuntime {
            id: r.id,
            application_id: r.application_id,
            version: r.version,
            dependencies: r.dependencies.clone(),
            environment_variables,
            initialization_script: r.initialization_script.clone(),
            installation: r.installation.clone(),
            created: r.created,
            updated: r.updated,
        })
    }

    /// `PUT /runtimes/nodejs/dependencies`, `/environment-variables` and
    /// `/initialization-script`: applies `change` (replacing what it names), makes the next
    /// patch version the runtime's, and in the same transaction enqueues that version's
    /// `RUNTIME_INSTALL` job (payload `{"version": "v0.0.2"}`) and the `runtime.updated` event.
    /// Concurrent changes are applied one after the other, each with a version of its own.
    pub async fn update_nodejs_runtime(
        &self,
        p: &AppPrincipal,
        change: RuntimeChange,
    ) -> Result<RuntimeRow> {
        if let RuntimeChange::InitializationScript(script) = &change {
            compiles(script.as_str(), "script")?;
        }
        let app = p.application_id;
        let now = self.now();
        // The row must exist for the change to lock it.
        self.ensure_runtime(app, now).await?;
        let mut tx = self.db.begin().await?;
        let locked = Runtimes::lock_in(&mut tx, app)
            .await?
            .ok_or_else(DomainError::internal)?;
        let mut r = self.open_runtime(locked)?;
        let what = change.name();
        match change {
            RuntimeChange::Dependencies(d) => r.dependencies = d,
            RuntimeChange::EnvironmentVariables(e) => r.environment_variables = e,
            RuntimeChange::InitializationScript(s) => {
                r.initialization_script = Some(s.as_str().to_string())
            }
        }
        r.version = r.version.next_patch();
        r.installation = r.installation.pending(r.version);
        r.updated = now;
        if !Runtimes::save_in(&mut tx, &self.seal_runtime(&r)?).await? {
            return Err(
                crate::error::internal("the runtime made on first read was not saved").into(),
            );
        }
        self.jobs
            .enqueue(
                &mut tx,
                Some(app),
                JobKind::RuntimeInstall,
                json!({"version": r.version.to_string()}),
                None,
            )
            .await?;
        let event = Event::RuntimeUpdated {
            runtime_id: r.id,
            version: r.version.to_string(),
            change: what.into(),
        };
        self.commit(tx, p, event).await?;
        self.jobs.wake();
        Ok(r)
    }

    /// The runtime of application `application_id` as its installer needs it (dependencies,
    /// environment variables, initialization script, current version and installation), made
    /// with defaults when it has none. A `RUNTIME_INSTALL` job whose payload version is older
    /// than the runtime's `version` was overtaken by a later change, whose own job follows.
    pub async fn runtime(&self, application_id: i64) -> Result<RuntimeRow> {
        self.nodejs_runtime(&principal(application_id)).await
    }

    /// Records what an installer reports of a version of application `application_id`'s
    /// runtime. False when the report was stale and changed nothing: it is about a version
    /// older than the one installed, or (a start or a failure) one installed already. A
    /// finished install of a version other than the current one (overtaken by a change while
    /// it ran) moves only the installed version.
    pub async fn record_runtime_install(
        &self,
        application_id: i64,
        outcome: &InstallOutcome,
    ) -> Result<bool> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some(mut r) = Runtimes::lock_in(&mut tx, application_id).await? else {
            return Ok(false);
        };
        let Some(next) = r.installation.apply(outcome, now) else {
            return Ok(false);
        };
        // Install reports are the job's bookkeeping, as a job's own state is: no event. The
        // variables, untouched, are written back as they are stored.
        r.installation = next;
        let saved = Runtimes::save_in(&mut tx, &r).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// `GET /runtimes/nodejs/functions`: a page of the application's functions in creation
    /// order (`sort=id,desc` turns it around), with the runtime they run on.
    pub async fn list_functions(
        &self,
        p: &AppPrincipal,
        page: &PageRequest,
    ) -> Result<(RuntimeRow, Vec<FunctionRow>, u64)> {
        let runtime = self.nodejs_runtime(p).await?;
        let (rows, total) = self
            .functions
            .page(
                p.application_id,
                ascending(page, true),
                page.offset(),
                page.size,
            )
            .await?;
        Ok((runtime, rows, total))
    }

    /// `POST /runtimes/nodejs/functions`: a function for a trigger that has none yet in the
    /// application (409 otherwise), enabled, without versions.
    pub async fn create_function(
        &self,
        p: &AppPrincipal,
        input: NewFunction,
    ) -> Result<(FunctionRow, RuntimeRow)> {
        let runtime = self.nodejs_runtime(p).await?;
        let new = NewFunctionRow {
            application_id: p.application_id,
            trigger: input.trigger,
            name: input.name,
            description: input.description,
            initialize_asynchronously: input.initialize_asynchronously,
            created: self.now(),
        };
        let mut tx = self.db.begin().await?;
        let f = match Functions::insert_in(&mut tx, &new).await {
            Ok(f) => f,
            Err(StoreError::Conflict(_)) => {
                return Err(DomainError::new(
                    ErrorCode::Conflict,
                    format!(
                        "The application has a {} function already",
                        input.trigger.as_str()
                    ),
                )
                .into())
            }
            Err(e) => return Err(e.into()),
        };
        let event = Event::FunctionCreated {
            function_id: f.id,
            r#type: f.trigger.as_str().into(),
            name: f.name.clone(),
        };
        self.commit(tx, p, event).await?;
        Ok((f, runtime))
    }

    async fn own_function(&self, p: &AppPrincipal, id: i64) -> Result<FunctionRow> {
        self.functions
            .get(p.application_id, id)
            .await?
            .ok_or_else(|| no_function(id).into())
    }

    /// `GET /functions/{id}`, with the runtime it runs on.
    pub async fn function(&self, p: &AppPrincipal, id: i64) -> Result<(FunctionRow, RuntimeRow)> {
        let f = self.own_function(p, id).await?;
        Ok((f, self.nodejs_runtime(p).await?))
    }

    /// `GET /functions/{id}/current-version`: 404 while the function has no version.
    pub async fn function_current_version(
        &self,
        p: &AppPrincipal,
        id: i64,
    ) -> Result<FunctionVersionRow> {
        let f = self.own_function(p, id).await?;
        let none = || {
            DomainError::new(
                ErrorCode::NotFound,
                format!("Function {id} has no version yet"),
            )
        };
        if f.current_version_number < 1 {
            return Err(none().into());
        }
        self.functions
            .version_by_number(p.application_id, id, f.current_version_number)
            .await?
            .ok_or_else(|| none().into())
    }

    /// `GET /functions/{id}/versions`: newest first (`sort=version_number,asc` turns it
    /// around).
    pub async fn list_function_versions(
        &self,
        p: &AppPrincipal,
        id: i64,
        page: &PageRequest,
    ) -> Result<(Vec<FunctionVersionRow>, u64)> {
        self.own_function(p, id).await?;
        Ok(self
            .functions
            .versions_page(
                p.application_id,
                id,
                ascending(page, false),
                page.offset(),
                page.size,
            )
            .await?)
    }

    /// `POST /functions/{id}/versions`: the function's next version (numbered 1, 2, 3…), which
    /// becomes its current one.
    pub async fn create_function_version(
        &self,
        p: &AppPrincipal,
        id: i64,
        script: HandlerScript,
    ) -> Result<FunctionVersionRow> {
        compiles(script.as_str(), "handler_script")?;
        let mut tx = self.db.begin().await?;
        let v =
            Functions::add_version_in(&mut tx, p.application_id, id, script.as_str(), self.now())
                .await?
                .ok_or_else(|| no_function(id))?;
        let event = Event::FunctionVersionCreated {
            function_id: id,
            version_id: v.id,
            version_number: v.version_number,
        };
        self.commit(tx, p, event).await?;
        Ok(v)
    }

    /// `GET /function-versions/{id}`.
    pub async fn function_version(&self, p: &AppPrincipal, id: i64) -> Result<FunctionVersionRow> {
        self.functions
            .version(p.application_id, id)
            .await?
            .ok_or_else(|| no_version(id).into())
    }

    /// `GET /functions/{id}/invocations`: newest first (`sort=id,asc` turns it around).
    pub async fn list_function_invocations(
        &self,
        p: &AppPrincipal,
        id: i64,
        page: &PageRequest,
    ) -> Result<(Vec<InvocationRow>, u64)> {
        self.own_function(p, id).await?;
        Ok(self
            .invocations
            .page(
                p.application_id,
                id,
                ascending(page, false),
                page.offset(),
                page.size,
            )
            .await?)
    }

    /// The function application `application_id` runs on `trigger`, with the version it runs:
    /// `None` when it has no function for the trigger, the function is disabled, or it has no
    /// version yet.
    pub async fn function_for_trigger(
        &self,
        application_id: i64,
        trigger: FunctionTrigger,
    ) -> Result<Option<TriggeredFunction>> {
        let Some(function) = self
            .functions
            .by_trigger(application_id, trigger)
            .await?
            .filter(|f| f.enabled && f.current_version_number > 0)
        else {
            return Ok(None);
        };
        let version = self
            .functions
            .version_by_number(application_id, function.id, function.current_version_number)
            .await?;
        Ok(version.map(|version| TriggeredFunction { function, version }))
    }

    /// Records that function `function_id` of application `application_id` started running
    /// version `version_number` with `args`: the invocation is RUNNING, with an empty result.
    /// Invocations are the record of function runs, as job rows are of jobs: no event.
    pub async fn start_invocation(
        &self,
        application_id: i64,
        function_id: i64,
        version_number: i64,
        args: Map<String, Value>,
    ) -> Result<InvocationRow> {
        self.own_function(&principal(application_id), function_id)
            .await?;
        Ok(self
            .invocations
            .start(&NewInvocation {
                application_id,
                function_id,
                version_number,
                args: Value::Object(args),
                created: self.now(),
            })
            .await?)
    }

    /// Ends invocation `invocation_id` of application `application_id` as `outcome` says
    /// (SUCCEEDED with `{"payload": …}` as its result, or FAILED with the error), with what the
    /// handler printed. False when it had ended already (or is not the application's).
    pub async fn finish_invocation(
        &self,
        application_id: i64,
        invocation_id: i64,
        outcome: &InvocationOutcome,
        output: Option<&str>,
    ) -> Result<bool> {
        let end = InvocationEnd {
            status: outcome.status(),
            result: outcome.result(),
            error: outcome.error().map(str::to_string),
            output: output.map(str::to_string),
            ended: self.now(),
        };
        Ok(self
            .invocations
            .finish(application_id, invocation_id, &end)
            .await?)
    }
}
