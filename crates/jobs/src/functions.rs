//! Chat functions as the server runs them: [`FunctionHost`] runs an application's function on
//! an event (recording the invocation), decides secured gateway session starts with the
//! blocking `user.attempted.start_session` function, and installs runtimes. The `node` workers
//! themselves are `palaver_functions`' pool.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use palaver_domain::platform::functions::{FunctionTrigger, InvocationOutcome};
use palaver_functions::{
    strip_types, ApiBridge, ApiRequest, Invocation, InvocationError, Pool, Runtimes,
};
use palaver_service::platform::{
    ApplicationRow, SessionAttempt, SessionDecision, SessionGate, SessionProfile, TriggeredFunction,
};
use palaver_service::Services;
use serde_json::{json, Map, Value};

/// How functions run: deadlines and the retry policy of non-blocking invocations.
#[derive(Debug, Clone)]
pub struct FunctionSettings {
    /// The deadline of a non-blocking invocation.
    pub timeout: Duration,
    /// The deadline of the blocking start-session function: a session start waits this long
    /// at most.
    pub session_timeout: Duration,
    /// Runs of a non-blocking invocation at most, the first included: a failed run is tried
    /// again (after the job back-off) while runs remain. 1 runs each event once.
    pub max_attempts: u32,
}

impl Default for FunctionSettings {
    fn default() -> Self {
        FunctionSettings {
            timeout: Duration::from_secs(10),
            session_timeout: Duration::from_secs(5),
            max_attempts: 1,
        }
    }
}

/// Runs chat functions for every application. Cheap to clone.
#[derive(Clone)]
pub struct FunctionHost {
    inner: Arc<Inner>,
}

struct Inner {
    services: Services,
    pool: Pool,
    runtimes: Runtimes,
    bridge: Arc<dyn ApiBridge>,
    settings: FunctionSettings,
    /// Type-stripped handler scripts by (function, version number): versions never change.
    scripts: Mutex<HashMap<(i64, i64), Arc<str>>>,
}

impl std::fmt::Debug for FunctionHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionHost")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// Scripts kept stripped at most; past it the cache starts over (stripping is cheap).
const SCRIPT_CACHE: usize = 512;

impl FunctionHost {
    pub fn new(
        services: Services,
        pool: Pool,
        runtimes: Runtimes,
        bridge: Arc<dyn ApiBridge>,
        settings: FunctionSettings,
    ) -> Self {
        FunctionHost {
            inner: Arc::new(Inner {
                services,
                pool,
                runtimes,
                bridge,
                settings,
                scripts: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn settings(&self) -> &FunctionSettings {
        &self.inner.settings
    }

    pub(crate) fn services(&self) -> &Services {
        &self.inner.services
    }

    pub(crate) fn runtimes(&self) -> &Runtimes {
        &self.inner.runtimes
    }

    /// Stops every worker (at shutdown).
    pub fn shutdown(&self) {
        self.inner.pool.shutdown();
    }

    /// A Platform API `GET` as application `app`, for building events: the resource, or
    /// `null` when it is gone.
    pub(crate) async fn resource(&self, app: i64, path: String) -> Value {
        let answer = self
            .inner
            .bridge
            .call(
                app,
                ApiRequest {
                    method: "GET".into(),
                    path,
                    query: Vec::new(),
                    body: None,
                },
            )
            .await;
        if (200..300).contains(&answer.status) {
            answer.body
        } else {
            Value::Null
        }
    }

    /// Runs `f` on `event` for application `app` within `timeout`, recording the invocation
    /// (RUNNING, then SUCCEEDED or FAILED with what the handler printed). An error only when
    /// the invocation could not be recorded.
    pub async fn invoke(
        &self,
        app: i64,
        f: &TriggeredFunction,
        event: Value,
        timeout: Duration,
    ) -> Result<InvocationOutcome, palaver_domain::DomainError> {
        let args = match &event {
            Value::Object(m) => m.clone(),
            other => Map::from_iter([("event".to_string(), other.clone())]),
        };
        self.invoke_recording(app, f, event, args, timeout).await
    }

    /// As [`FunctionHost::invoke`], recording `args` as the invocation's arguments instead of
    /// the event (which may carry what must not be kept, such as a password).
    async fn invoke_recording(
        &self,
        app: i64,
        f: &TriggeredFunction,
        event: Value,
        args: Map<String, Value>,
        timeout: Duration,
    ) -> Result<InvocationOutcome, palaver_domain::DomainError> {
        let platform = &self.inner.services.platform;
        let version = f.version.version_number;
        let row = platform
            .start_invocation(app, f.function.id, version, args)
            .await
            .map_err(|e| e.into_domain())?;
        let (outcome, output) = self.run(app, f, event, timeout).await;
        platform
            .finish_invocation(app, row.id, &outcome, Some(&output))
            .await
            .map_err(|e| e.into_domain())?;
        Ok(outcome)
    }

    /// Runs `f` without recording anything: its outcome and captured output.
    async fn run(
        &self,
        app: i64,
        f: &TriggeredFunction,
        event: Value,
        timeout: Duration,
    ) -> (InvocationOutcome, String) {
        let failed = |error: String| InvocationOutcome::Failed { error };
        let script = match self.script(f) {
            Ok(s) => s,
            Err(e) => return (failed(e), String::new()),
        };
        let environment: BTreeMap<String, String> =
            match self.inner.services.platform.runtime(app).await {
                Ok(r) => r.environment_variables.as_map().clone(),
                Err(e) => {
                    let why = format!("the runtime could not be read: {}", e.into_domain());
                    return (failed(why), String::new());
                }
            };
        let trigger = f.function.trigger.as_str();
        let invocation = Invocation {
            app_id: app,
            function_id: f.function.id,
            version: f.version.version_number,
            script: script.to_string(),
            event,
            context: json!({
                "functionName": f.function.name,
                "triggerType": trigger,
            }),
            environment,
            timeout,
        };
        let done = self.inner.pool.invoke(invocation).await;
        let outcome = match done.result {
            Ok(payload) => InvocationOutcome::Succeeded { payload },
            Err(e) => failed(describe(&e)),
        };
        (outcome, done.output)
    }

    /// The version's script with its type annotations stripped, from the cache when it was
    /// stripped before.
    fn script(&self, f: &TriggeredFunction) -> Result<Arc<str>, String> {
        let key = (f.function.id, f.version.version_number);
        let cached = self
            .inner
            .scripts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(s) = cached {
            return Ok(s);
        }
        let stripped: Arc<str> = strip_types(&f.version.handler_script)
            .map_err(|e| {
                format!(
                    "the handler script has a syntax error at line {}, column {}: {}",
                    e.line, e.column, e.message
                )
            })?
            .into();
        let mut scripts = self
            .inner
            .scripts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if scripts.len() >= SCRIPT_CACHE {
            scripts.clear();
        }
        scripts.insert(key, stripped.clone());
        Ok(stripped)
    }
}

/// An invocation error as the invocation row and a denied session show it.
fn describe(e: &InvocationError) -> String {
    e.to_string()
}

/// `params` with every value replaced, so the record of a session start shows which auth
/// parameters came without keeping a secret.
fn redacted(params: &Value) -> Value {
    match params {
        Value::Object(o) => Value::Object(
            o.keys()
                .map(|k| (k.clone(), Value::String("[redacted]".into())))
                .collect(),
        ),
        Value::Null => Value::Null,
        _ => Value::String("[redacted]".into()),
    }
}

/// What a start-session function's answer says: `false` denies; an object may name the user's
/// display name, properties and display picture (either naming); anything else allows.
fn decision(payload: &Value) -> SessionDecision {
    match payload {
        Value::Bool(false) => SessionDecision::Deny(
            "The application's user.attempted.start_session function refused the session".into(),
        ),
        Value::Object(o) => {
            let text = |snake: &str, camel: &str| {
                o.get(snake)
                    .or_else(|| o.get(camel))
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string)
            };
            SessionDecision::Allow(SessionProfile {
                display_name: text("display_name", "displayName"),
                properties: o.get("properties").filter(|p| p.is_object()).cloned(),
                display_picture_url: text("display_picture_url", "displayPictureUrl"),
            })
        }
        _ => SessionDecision::Allow(SessionProfile::default()),
    }
}

impl SessionGate for FunctionHost {
    fn decide<'a>(
        &'a self,
        app: &'a ApplicationRow,
        attempt: &'a SessionAttempt,
    ) -> Pin<Box<dyn Future<Output = SessionDecision> + Send + 'a>> {
        Box::pin(async move {
            let platform = &self.inner.services.platform;
            let f = match platform
                .function_for_trigger(app.id, FunctionTrigger::UserAttemptedStartSession)
                .await
            {
                Ok(Some(f)) => f,
                Ok(None) => {
                    return palaver_service::platform::NoSessionFunction
                        .decide(app, attempt)
                        .await
                }
                Err(e) => {
                    tracing::error!(error = %e.into_domain(), "start-session function not read");
                    return SessionDecision::Deny("The session could not be decided".into());
                }
            };
            let event = json!({
                "username": attempt.username,
                "authParams": attempt.auth_params,
            });
            // Auth params are credentials: the record keeps their names, not their values.
            let args = Map::from_iter([
                ("username".to_string(), json!(attempt.username)),
                ("authParams".to_string(), redacted(&attempt.auth_params)),
            ]);
            let timeout = self.inner.settings.session_timeout;
            match self
                .invoke_recording(app.id, &f, event, args, timeout)
                .await
            {
                Ok(InvocationOutcome::Succeeded { payload }) => decision(&payload),
                Ok(InvocationOutcome::Failed { error }) => SessionDecision::Deny(format!(
                    "The application's user.attempted.start_session function denied the \
                     session: {error}"
                )),
                Err(e) => {
                    tracing::error!(error = %e, "start-session invocation not recorded");
                    SessionDecision::Deny("The session could not be decided".into())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_session_answer_decides() {
        assert!(matches!(decision(&json!(false)), SessionDecision::Deny(_)));
        assert_eq!(
            decision(&json!(null)),
            SessionDecision::Allow(SessionProfile::default())
        );
        assert_eq!(
            decision(&json!(true)),
            SessionDecision::Allow(SessionProfile::default())
        );
        assert_eq!(
            decision(
                &json!({"displayName": "Ada", "properties": {"a": 1}, "display_picture_url": "https://x/y.png"})
            ),
            SessionDecision::Allow(SessionProfile {
                display_name: Some("Ada".into()),
                properties: Some(json!({"a": 1})),
                display_picture_url: Some("https://x/y.png".into()),
            })
        );
        assert_eq!(
            redacted(&json!({"password": "hunter2", "otp": 123})),
            json!({"password": "[redacted]", "otp": "[redacted]"})
        );
        assert_eq!(redacted(&json!("token")), json!("[redacted]"));
        assert_eq!(redacted(&Value::Null), Value::Null);
        // Blank names and non-object properties say nothing.
        assert_eq!(
            decision(&json!({"display_name": " ", "properties": 3})),
            SessionDecision::Allow(SessionProfile::default())
        );
    }
}
