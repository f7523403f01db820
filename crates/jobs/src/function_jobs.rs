//! The jobs of chat functions: RUNTIME_INSTALL installs the runtime version a change asked for
//! (recording its outcome on the runtime), FUNCTION_INVOCATION runs a non-blocking function on
//! the event that triggered it, with the event's resources read as the Platform API shows them.

use futures_util::future::BoxFuture;
use palaver_domain::job::JobKind;
use palaver_domain::platform::event::Event;
use palaver_domain::platform::functions::{
    FunctionTrigger, InstallOutcome, InvocationOutcome, RuntimeVersion,
};
use palaver_domain::time::format_millis;
use palaver_functions::Dependency;
use palaver_service::jobs::{JobLease, JobRow};
use palaver_service::platform::InvocationJob;
use serde_json::{json, Map, Value};

use crate::functions::FunctionHost;
use crate::worker::{Handler, JobFailure};

fn transient(e: palaver_service::ServiceError) -> JobFailure {
    JobFailure::Transient(e.into_domain().message)
}

/// Installs an application's runtime version.
pub(crate) struct RuntimeInstallHandler {
    host: FunctionHost,
}

impl RuntimeInstallHandler {
    pub(crate) fn new(host: FunctionHost) -> Self {
        RuntimeInstallHandler { host }
    }

    async fn install(&self, job: &JobRow) -> Result<Value, JobFailure> {
        let app = job.application_id.ok_or_else(|| {
            JobFailure::Permanent("a runtime install names no application".into())
        })?;
        let asked = job
            .payload
            .get("version")
            .and_then(Value::as_str)
            .and_then(RuntimeVersion::parse)
            .ok_or_else(|| JobFailure::Permanent("a runtime install names no version".into()))?;
        let platform = &self.host.services().platform;
        let runtime = platform.runtime(app).await.map_err(transient)?;
        if asked < runtime.version {
            // A later change's own install follows; installing this one would be wasted.
            return Ok(json!({"version": asked.to_string(), "skipped": "overtaken"}));
        }
        let version = runtime.version;
        platform
            .record_runtime_install(app, &InstallOutcome::Installing { version })
            .await
            .map_err(transient)?;
        let dependencies: Vec<Dependency> = runtime
            .dependencies
            .as_slice()
            .iter()
            .map(|d| Dependency {
                name: d.name.clone(),
                version: d.version.clone(),
            })
            .collect();
        let init = runtime.initialization_script.clone().unwrap_or_default();
        let label = version.to_string();
        let outcome = match self
            .host
            .runtimes()
            .install(app, &label, &dependencies, &init)
            .await
        {
            Ok(done) => InstallOutcome::Installed {
                version,
                output: done.output,
            },
            Err(e) => {
                let (what, printed) = (e.to_string(), e.output());
                let output = if printed == what {
                    what
                } else {
                    format!("{what}\n{printed}")
                };
                InstallOutcome::Failed { version, output }
            }
        };
        platform
            .record_runtime_install(app, &outcome)
            .await
            .map_err(transient)?;
        let state = match outcome {
            InstallOutcome::Installed { .. } => "INSTALLED",
            _ => "FAILED",
        };
        Ok(json!({"version": label, "state": state}))
    }
}

impl Handler for RuntimeInstallHandler {
    fn kind(&self) -> JobKind {
        JobKind::RuntimeInstall
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(self.install(job))
    }
}

/// Runs a non-blocking function on its event.
pub(crate) struct InvocationHandler {
    host: FunctionHost,
}

impl InvocationHandler {
    pub(crate) fn new(host: FunctionHost) -> Self {
        InvocationHandler { host }
    }

    async fn invoke(&self, job: &JobRow) -> Result<Value, JobFailure> {
        let app = job
            .application_id
            .ok_or_else(|| JobFailure::Permanent("an invocation names no application".into()))?;
        let payload: InvocationJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobFailure::Permanent(format!("an unreadable invocation: {e}")))?;
        let trigger = FunctionTrigger::parse(&payload.trigger)
            .ok_or_else(|| JobFailure::Permanent(format!("no trigger {}", payload.trigger)))?;
        let platform = &self.host.services().platform;
        let Some(f) = platform
            .function_for_trigger(app, trigger)
            .await
            .map_err(transient)?
            .filter(|f| f.function.id == payload.function_id)
        else {
            // Disabled or replaced since the event: nothing runs.
            return Ok(json!({"skipped": "the function no longer runs on this trigger"}));
        };
        let event = event_object(&self.host, app, &payload).await;
        let timeout = self.host.settings().timeout;
        let outcome = self
            .host
            .invoke(app, &f, event, timeout)
            .await
            .map_err(|e| JobFailure::Transient(e.message))?;
        let max = i64::from(self.host.settings().max_attempts.max(1));
        match outcome {
            InvocationOutcome::Failed { error } if job.attempts < max => {
                Err(JobFailure::Transient(error))
            }
            outcome => Ok(json!({
                "function_id": f.function.id,
                "version_number": f.version.version_number,
                "status": outcome.status().as_str(),
            })),
        }
    }
}

impl Handler for InvocationHandler {
    fn kind(&self) -> JobKind {
        JobKind::FunctionInvocation
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(self.invoke(job))
    }
}

/// The handler's `event`: what the trigger's ChatKitty event type carries, its resources read
/// through the Platform API (snake_case, as the server-side clients show them; `null` for one
/// deleted since), with the trigger's own fields in camelCase.
async fn event_object(host: &FunctionHost, app: i64, job: &InvocationJob) -> Value {
    let user = |id: i64| host.resource(app, format!("/v1/users/{id}"));
    let channel = |id: i64| host.resource(app, format!("/v1/channels/{id}"));
    let message = |id: i64| host.resource(app, format!("/v1/messages/{id}"));
    let mut o = Map::new();
    match &job.event {
        Event::MessageCreated(m) => {
            if let Some(u) = m.user_id {
                o.insert("user".into(), user(u).await);
            }
            o.insert("message".into(), message(m.id).await);
            o.insert("channel".into(), channel(m.channel_id).await);
        }
        Event::MessageRead {
            message_id,
            channel_id,
            user_id,
            ..
        } => {
            o.insert("user".into(), user(*user_id).await);
            o.insert("message".into(), message(*message_id).await);
            o.insert("channel".into(), channel(*channel_id).await);
            o.insert(
                "readReceipt".into(),
                json!({
                    "user_id": user_id,
                    "message_id": message_id,
                    "created_time": format_millis(job.created),
                }),
            );
        }
        Event::MessageReacted(r) => {
            o.insert("user".into(), user(r.user_id).await);
            o.insert("message".into(), message(r.message_id).await);
            o.insert("channel".into(), channel(r.channel_id).await);
            o.insert(
                "reaction".into(),
                json!({
                    "emoji": r.emoji,
                    "user_id": r.user_id,
                    "created_time": format_millis(r.created),
                }),
            );
        }
        Event::InviteSent(invite) => {
            o.insert("user".into(), user(invite.user_id).await);
            o.insert("channel".into(), channel(invite.channel_id).await);
        }
        Event::ChannelEventSent {
            channel_id,
            r#type,
            properties,
            user_id,
        } => {
            if let Some(u) = user_id {
                o.insert("user".into(), user(*u).await);
            }
            o.insert("channel".into(), channel(*channel_id).await);
            o.insert(
                "event".into(),
                json!({"type": r#type, "properties": properties}),
            );
        }
        Event::NotificationsCreated { .. } => {
            if let Some(u) = job.user_id {
                let who = user(u).await;
                let online = who
                    .pointer("/presence/online")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let page = host
                    .resource(app, format!("/v1/users/{u}/notifications?size=1"))
                    .await;
                let newest = page
                    .pointer("/_embedded/notifications/0")
                    .cloned()
                    .unwrap_or(Value::Null);
                o.insert("user".into(), who);
                o.insert("notification".into(), newest);
                o.insert("userHasActiveSession".into(), Value::Bool(online));
            }
        }
        Event::ChatSessionStarted {
            chat_session_id,
            channel_id,
            user_id,
        } => {
            o.insert("user".into(), user(*user_id).await);
            o.insert("channel".into(), channel(*channel_id).await);
            o.insert("chatSessionId".into(), json!(chat_session_id));
        }
        _ => {}
    }
    o.insert("type".into(), Value::String(job.trigger.clone()));
    o.insert(
        "createdTime".into(),
        Value::String(format_millis(job.created)),
    );
    Value::Object(o)
}
