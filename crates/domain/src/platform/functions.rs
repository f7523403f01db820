//! Chat functions and their Node.js runtime, as values: the triggers a function can answer, the
//! runtime's semantic version, its npm dependencies, environment variables and initialization
//! script, a function and its handler script, invocation statuses, and the state of the
//! runtime's installation. Each is parsed once from a request body (or an installer's report);
//! past that, code holds only valid values.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{DomainError, ErrorCode};

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::InvalidParameter, message)
}

/// The largest script (initialization or handler) accepted, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 1 << 20;
/// The most dependencies a runtime may list.
pub const MAX_DEPENDENCIES: usize = 200;
/// The most environment variables a runtime may hold.
pub const MAX_ENVIRONMENT_VARIABLES: usize = 200;
/// The longest function name or description, in characters.
const MAX_NAME_CHARS: usize = 255;
const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// What a chat function runs on: ChatKitty's 17 function types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FunctionTrigger {
    UserAttemptedStartSession,
    UserReceivedNotification,
    UserSentMessage,
    UserStartedChatSession,
    UserReactedToMessage,
    UserReadMessage,
    UserReceivedChannelInvite,
    UserStartedCall,
    CallActive,
    CallEnded,
    UserAcceptedCallInvite,
    UserDeclinedCallInvite,
    CallParticipantJoinedCall,
    CallParticipantLeftCall,
    UserSentCallInvite,
    UserTriggeredEvent,
    SystemTriggeredEvent,
}

impl FunctionTrigger {
    pub const ALL: [FunctionTrigger; 17] = [
        FunctionTrigger::UserAttemptedStartSession,
        FunctionTrigger::UserReceivedNotification,
        FunctionTrigger::UserSentMessage,
        FunctionTrigger::UserStartedChatSession,
        FunctionTrigger::UserReactedToMessage,
        FunctionTrigger::UserReadMessage,
        FunctionTrigger::UserReceivedChannelInvite,
        FunctionTrigger::UserStartedCall,
        FunctionTrigger::CallActive,
        FunctionTrigger::CallEnded,
        FunctionTrigger::UserAcceptedCallInvite,
        FunctionTrigger::UserDeclinedCallInvite,
        FunctionTrigger::CallParticipantJoinedCall,
        FunctionTrigger::CallParticipantLeftCall,
        FunctionTrigger::UserSentCallInvite,
        FunctionTrigger::UserTriggeredEvent,
        FunctionTrigger::SystemTriggeredEvent,
    ];

    /// The function `type` as ChatKitty names it, and as it is stored.
    pub fn as_str(self) -> &'static str {
        use FunctionTrigger::*;
        match self {
            UserAttemptedStartSession => "user.attempted.start_session",
            UserReceivedNotification => "user.received.notification",
            UserSentMessage => "user.sent.message",
            UserStartedChatSession => "user.started.chat_session",
            UserReactedToMessage => "user.reacted_to.message",
            UserReadMessage => "user.read.message",
            UserReceivedChannelInvite => "user.received.channel_invite",
            UserStartedCall => "user.started.call",
            CallActive => "call.active",
            CallEnded => "call.ended",
            UserAcceptedCallInvite => "user.accepted.call_invite",
            UserDeclinedCallInvite => "user.declined.call_invite",
            CallParticipantJoinedCall => "call_participant.joined.call",
            CallParticipantLeftCall => "call_participant.left.call",
            UserSentCallInvite => "user.sent.call_invite",
            UserTriggeredEvent => "user.triggered.event",
            SystemTriggeredEvent => "system.triggered.event",
        }
    }

    pub fn parse(s: &str) -> Option<FunctionTrigger> {
        FunctionTrigger::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// True when the action that triggers the function waits for its answer: a session start
    /// is allowed or refused by the function. Every other trigger runs after the fact.
    pub fn is_blocking(self) -> bool {
        matches!(self, FunctionTrigger::UserAttemptedStartSession)
    }
}

impl fmt::Display for FunctionTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The semantic version of an application's runtime, written as ChatKitty writes it
/// (`v0.0.29`). A runtime starts at [`RuntimeVersion::INITIAL`] and each change of its
/// dependencies, environment variables or initialization script is a patch release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuntimeVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl RuntimeVersion {
    /// A new runtime's version.
    pub const INITIAL: RuntimeVersion = RuntimeVersion {
        major: 0,
        minor: 0,
        patch: 1,
    };

    /// `v1.2.3` or `1.2.3`.
    pub fn parse(s: &str) -> Option<RuntimeVersion> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let mut parts = s.split('.');
        let mut next = || -> Option<u64> {
            let p = parts.next()?;
            // Digits only: no signs, no pre-release or build suffixes.
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = RuntimeVersion {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        parts.next().is_none().then_some(v)
    }

    /// The next patch release: what every change of the runtime makes.
    pub fn next_patch(self) -> RuntimeVersion {
        RuntimeVersion {
            patch: self.patch.saturating_add(1),
            ..self
        }
    }
}

impl fmt::Display for RuntimeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Serialize for RuntimeVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RuntimeVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RuntimeVersion::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not a runtime version: {s}")))
    }
}

/// True for a name npm accepts for a package: `name` or `@scope/name`, each part of URL-safe
/// characters, not starting with `.` or `_`, at most 214 characters in all. Upper case is let
/// through: old packages (`JSONStream`) still have it.
pub fn is_npm_package_name(name: &str) -> bool {
    fn part(p: &str) -> bool {
        !p.is_empty()
            && !p.starts_with('.')
            && !p.starts_with('_')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    }
    if name.is_empty() || name.len() > 214 {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, pkg)) => part(scope) && part(pkg),
            None => false,
        },
        None => part(name) && !matches!(name, "node_modules" | "favicon.ico"),
    }
}

/// One npm package of a runtime (`ChatRuntimeDependencyProperties`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    /// What npm installs: a version, a range or a tag (`4.17.21`, `^1.2.0`, `latest`).
    pub version: String,
    /// True for the packages the server installs in every runtime.
    pub default_dependency: bool,
}

/// A runtime's whole list of dependencies, as `PUT /runtimes/nodejs/dependencies` replaces it:
/// npm package names, each once, with a version each.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Dependencies(Vec<Dependency>);

impl Dependencies {
    /// Reads a snake_case body: a JSON array of `{name, version, default_dependency}`.
    pub fn from_body(body: &Value) -> Result<Dependencies, DomainError> {
        let items = body.as_array().ok_or_else(|| {
            invalid("the request body must be a JSON array of {name, version, default_dependency}")
        })?;
        if items.len() > MAX_DEPENDENCIES {
            return Err(invalid(format!(
                "a runtime may have at most {MAX_DEPENDENCIES} dependencies"
            )));
        }
        let mut out: Vec<Dependency> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let obj = item
                .as_object()
                .ok_or_else(|| invalid(format!("dependency {i} must be a JSON object")))?;
            let text = |k: &str| match obj.get(k) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                _ => Err(invalid(format!(
                    "dependency {i}: {k} is required and must be a non-empty string"
                ))),
            };
            let name = text("name")?;
            if !is_npm_package_name(&name) {
                return Err(invalid(format!(
                    "dependency {i}: \"{name}\" is not an npm package name"
                )));
            }
            let version = text("version")?;
            if version.len() > 256 || version.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "dependency {i}: \"{version}\" is not an npm version"
                )));
            }
            let default_dependency = match obj.get("default_dependency") {
                Some(Value::Bool(b)) => *b,
                _ => {
                    return Err(invalid(format!(
                        "dependency {i}: default_dependency is required and must be true or false"
                    )))
                }
            };
            // npm names are unique without regard to case (new ones are lower case).
            if out.iter().any(|d| d.name.eq_ignore_ascii_case(&name)) {
                return Err(invalid(format!("dependency \"{name}\" is listed twice")));
            }
            out.push(Dependency {
                name,
                version,
                default_dependency,
            });
        }
        Ok(Dependencies(out))
    }

    pub fn as_slice(&self) -> &[Dependency] {
        &self.0
    }
}

/// True for a name a POSIX shell accepts for a variable: a letter or `_`, then letters, digits
/// and `_`.
pub fn is_environment_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name.len() <= 255
}

/// A runtime's environment variables, as `PUT /runtimes/nodejs/environment-variables` replaces
/// them: valid names, text values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnvironmentVariables(BTreeMap<String, String>);

impl EnvironmentVariables {
    /// Reads a body as sent (its keys are the caller's names, never renamed): a JSON object of
    /// strings.
    pub fn from_body(body: &Value) -> Result<EnvironmentVariables, DomainError> {
        let obj = body.as_object().ok_or_else(|| {
            invalid("the request body must be a JSON object of variable names to string values")
        })?;
        if obj.len() > MAX_ENVIRONMENT_VARIABLES {
            return Err(invalid(format!(
                "a runtime may have at most {MAX_ENVIRONMENT_VARIABLES} environment variables"
            )));
        }
        let mut out = BTreeMap::new();
        for (k, v) in obj {
            if !is_environment_variable_name(k) {
                return Err(invalid(format!(
                    "\"{k}\" is not an environment variable name (a letter or _, then letters, \
                     digits and _)"
                )));
            }
            let Value::String(s) = v else {
                return Err(invalid(format!(
                    "the value of environment variable {k} must be a string"
                )));
            };
            // A NUL cannot be passed to a process's environment.
            if s.contains('\0') {
                return Err(invalid(format!(
                    "the value of environment variable {k} cannot hold a NUL character"
                )));
            }
            out.insert(k.clone(), s.clone());
        }
        Ok(EnvironmentVariables(out))
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

fn script_text(obj: &Map<String, Value>, key: &str) -> Result<String, DomainError> {
    match obj.get(key) {
        Some(Value::String(s)) if s.len() <= MAX_SCRIPT_BYTES => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid(format!(
            "{key} must be at most {MAX_SCRIPT_BYTES} bytes"
        ))),
        _ => Err(invalid(format!("{key} is required and must be a string"))),
    }
}

/// A runtime's initialization script (`ChatRuntimeScriptProperties`): run once when the
/// runtime starts, before any function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializationScript(String);

impl InitializationScript {
    /// Reads `{script}`.
    pub fn from_body(body: &Value) -> Result<InitializationScript, DomainError> {
        let obj = body
            .as_object()
            .ok_or_else(|| invalid("the request body must be a JSON object {script}"))?;
        Ok(InitializationScript(script_text(obj, "script")?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A function to create (`CreateChatFunctionResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFunction {
    pub trigger: FunctionTrigger,
    pub name: String,
    pub description: Option<String>,
    /// Whether the runtime may answer before the function's module has loaded. ChatKitty's
    /// Python client lacks the field: absent is false.
    pub initialize_asynchronously: bool,
}

impl NewFunction {
    /// Reads a snake_case body `{type, name, description?, initialize_asynchronously?}`.
    pub fn from_body(body: &Value) -> Result<NewFunction, DomainError> {
        let obj = body.as_object().ok_or_else(|| {
            invalid("the request body must be a JSON object {type, name, description?, initialize_asynchronously}")
        })?;
        let trigger = match obj.get("type") {
            Some(Value::String(t)) => FunctionTrigger::parse(t.trim()).ok_or_else(|| {
                invalid(format!(
                    "type \"{t}\" is not a function type; one of: {}",
                    FunctionTrigger::ALL.map(FunctionTrigger::as_str).join(", ")
                ))
            })?,
            _ => return Err(invalid("type is required and must be a string")),
        };
        let name = match obj.get("name") {
            Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
            _ => return Err(invalid("name is required and must be a non-empty string")),
        };
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(format!(
                "name must be at most {MAX_NAME_CHARS} characters"
            )));
        }
        let description = match obj.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) if d.chars().count() <= MAX_DESCRIPTION_CHARS => Some(d.clone()),
            Some(Value::String(_)) => {
                return Err(invalid(format!(
                    "description must be at most {MAX_DESCRIPTION_CHARS} characters"
                )))
            }
            Some(_) => return Err(invalid("description must be a string")),
        };
        let initialize_asynchronously = match obj.get("initialize_asynchronously") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("initialize_asynchronously must be true or false")),
        };
        Ok(NewFunction {
            trigger,
            name,
            description,
            initialize_asynchronously,
        })
    }
}

/// The code of a function version (`CreateChatFunctionVersionResource.handler_script`): never
/// blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerScript(String);

impl HandlerScript {
    /// Reads `{handler_script}`.
    pub fn from_body(body: &Value) -> Result<HandlerScript, DomainError> {
        let obj = body
            .as_object()
            .ok_or_else(|| invalid("the request body must be a JSON object {handler_script}"))?;
        let script = script_text(obj, "handler_script")?;
        if script.trim().is_empty() {
            return Err(invalid("handler_script cannot be empty"));
        }
        Ok(HandlerScript(script))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where one invocation of a function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationStatus {
    Running,
    Succeeded,
    Failed,
}

impl InvocationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationStatus::Running => "RUNNING",
            InvocationStatus::Succeeded => "SUCCEEDED",
            InvocationStatus::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<InvocationStatus> {
        [
            InvocationStatus::Running,
            InvocationStatus::Succeeded,
            InvocationStatus::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationOutcome {
    /// The handler returned `payload`; the invocation's `result` is `{"payload": payload}`, as
    /// ChatKitty shows it (a result is always a map, whatever the handler returned).
    Succeeded { payload: Value },
    /// The handler threw, timed out or could not run: `error` says why, in words.
    Failed { error: String },
}

impl InvocationOutcome {
    pub fn status(&self) -> InvocationStatus {
        match self {
            InvocationOutcome::Succeeded { .. } => InvocationStatus::Succeeded,
            InvocationOutcome::Failed { .. } => InvocationStatus::Failed,
        }
    }

    /// The invocation's `result` map.
    pub fn result(&self) -> Value {
        let mut m = Map::new();
        if let InvocationOutcome::Succeeded { payload } = self {
            m.insert("payload".into(), payload.clone());
        }
        Value::Object(m)
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            InvocationOutcome::Succeeded { .. } => None,
            InvocationOutcome::Failed { error } => Some(error),
        }
    }
}

/// Where the installation of a runtime version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallState {
    /// Waiting for its install job.
    Pending,
    Installing,
    Installed,
    Failed,
}

impl InstallState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallState::Pending => "PENDING",
            InstallState::Installing => "INSTALLING",
            InstallState::Installed => "INSTALLED",
            InstallState::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<InstallState> {
        [
            InstallState::Pending,
            InstallState::Installing,
            InstallState::Installed,
            InstallState::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// What an installer reports of one runtime version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallOutcome {
    /// The install of `version` has started.
    Installing { version: RuntimeVersion },
    /// `version` is installed; `output` is what the install printed.
    Installed {
        version: RuntimeVersion,
        output: String,
    },
    /// The install of `version` failed; `output` says how.
    Failed {
        version: RuntimeVersion,
        output: String,
    },
}

impl InstallOutcome {
    pub fn version(&self) -> RuntimeVersion {
        match self {
            InstallOutcome::Installing { version }
            | InstallOutcome::Installed { version, .. }
            | InstallOutcome::Failed { version, .. } => *version,
        }
    }
}

/// The installation of a runtime: the state of its current version's install, and the newest
/// version installed so far (what functions run on until the current one is installed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub state: InstallState,
    /// The version `state` is about: the runtime's current version.
    pub version: RuntimeVersion,
    pub installed_version: Option<RuntimeVersion>,
    /// What the last install of `version` printed.
    pub output: Option<String>,
    /// When the last install of `version` ended (epoch ms).
    pub finished: Option<i64>,
}

impl Installation {
    /// A new runtime's: it has no dependencies and no script, so there is nothing to install
    /// and its first version counts as installed from the start.
    pub fn initial(now: i64) -> Installation {
        Installation {
            state: InstallState::Installed,
            version: RuntimeVersion::INITIAL,
            installed_version: Some(RuntimeVersion::INITIAL),
            output: None,
            finished: Some(now),
        }
    }

    /// After a change made `version` the runtime's: its install waits for its job; what was
    /// installed stays until then.
    pub fn pending(&self, version: RuntimeVersion) -> Installation {
        Installation {
            state: InstallState::Pending,
            version,
            installed_version: self.installed_version,
            output: None,
            finished: None,
        }
    }

    /// This installation once `outcome` is recorded at `now`; `None` when the report changes
    /// nothing because it is stale: a version older than the one installed (a late or
    /// repeated job), or, for a start or a failure, a version that is installed already.
    /// Reports of a version other than the current one only ever move `installed_version`
    /// forward (an install that finished after the next change was made).
    pub fn apply(&self, outcome: &InstallOutcome, now: i64) -> Option<Installation> {
        let v = outcome.version();
        let installed = self.installed_version;
        let current = v == self.version;
        match outcome {
            InstallOutcome::Installed { output, .. } => {
                if installed.is_some_and(|i| v < i) {
                    return None;
                }
                if !current {
                    if installed == Some(v) {
                        return None;
                    }
                    return Some(Installation {
                        installed_version: Some(v),
                        ..self.clone()
                    });
                }
                Some(Installation {
                    state: InstallState::Installed,
                    version: v,
                    installed_version: Some(v),
                    output: Some(output.clone()),
                    finished: Some(now),
                })
            }
            InstallOutcome::Installing { .. } | InstallOutcome::Failed { .. } => {
                if !current || installed.is_some_and(|i| v <= i) {
                    return None;
                }
                Some(match outcome {
                    InstallOutcome::Failed { output, .. } => Installation {
                        state: InstallState::Failed,
                        output: Some(output.clone()),
                        finished: Some(now),
                        ..self.clone()
                    },
                    _ => Installation {
                        state: InstallState::Installing,
                        output: None,
                        finished: None,
                        ..self.clone()
                    },
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn triggers_round_trip_and_only_session_starts_block() {
        for t in FunctionTrigger::ALL {
            assert_eq!(FunctionTrigger::parse(t.as_str()), Some(t));
            assert_eq!(
                t.is_blocking(),
                t == FunctionTrigger::UserAttemptedStartSession
            );
        }
        let names: std::collections::HashSet<_> =
            FunctionTrigger::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), 17);
        assert_eq!(FunctionTrigger::parse("user.sent.messages"), None);
        assert_eq!(FunctionTrigger::parse("USER.SENT.MESSAGE"), None);
    }

    #[test]
    fn versions_parse_print_order_and_bump_by_number() {
        let v = RuntimeVersion::parse("v0.0.9").unwrap();
        assert_eq!(RuntimeVersion::parse("0.0.9"), Some(v));
        assert_eq!(v.next_patch().to_string(), "v0.0.10");
        assert!(v < v.next_patch());
        assert!(
            RuntimeVersion::parse("v1.0.0").unwrap() > RuntimeVersion::parse("v0.9.99").unwrap()
        );
        for bad in [
            "",
            "v",
            "1.0",
            "1.0.0.0",
            "1.0.x",
            "v-1.0.0",
            "1.0.0-beta",
            " ",
        ] {
            assert_eq!(RuntimeVersion::parse(bad), None, "{bad}");
        }
        assert_eq!(RuntimeVersion::INITIAL.to_string(), "v0.0.1");
        assert_eq!(serde_json::to_value(v).unwrap(), json!("v0.0.9"));
        assert_eq!(
            serde_json::from_value::<RuntimeVersion>(json!("v0.0.9")).unwrap(),
            v
        );
    }

    #[test]
    fn npm_names() {
        for ok in [
            "lodash",
            "@chatkitty/core",
            "left-pad",
            "JSONStream",
            "a.b_c~d",
            "x",
        ] {
            assert!(is_npm_package_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".hidden",
            "_under",
            "with space",
            "@scope",
            "@/x",
            "@s/",
            "a/b",
            "ünï",
            "node_modules",
            &"a".repeat(215),
        ] {
            assert!(!is_npm_package_name(bad), "{bad}");
        }
    }

    #[test]
    fn dependencies_parse_or_say_why_not() {
        let d = Dependencies::from_body(&json!([
            {"name": "lodash", "version": "4.17.21", "default_dependency": false},
            {"name": "@scope/pkg", "version": "^1.0.0", "default_dependency": true},
        ]))
        .unwrap();
        assert_eq!(d.as_slice().len(), 2);
        assert_eq!(d.as_slice()[1].name, "@scope/pkg");
        assert!(Dependencies::from_body(&json!([]))
            .unwrap()
            .as_slice()
            .is_empty());
        for bad in [
            json!({"name": "lodash"}),
            json!("lodash"),
            json!([1]),
            json!([{"version": "1", "default_dependency": false}]),
            json!([{"name": "lodash", "default_dependency": false}]),
            json!([{"name": "lodash", "version": " ", "default_dependency": false}]),
            json!([{"name": "lodash", "version": "1"}]),
            json!([{"name": "lodash", "version": "1", "default_dependency": "no"}]),
            json!([{"name": "Bad Name", "version": "1", "default_dependency": false}]),
            json!([
                {"name": "lodash", "version": "1", "default_dependency": false},
                {"name": "LODASH", "version": "2", "default_dependency": false}
            ]),
        ] {
            let e = Dependencies::from_body(&bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn environment_variables_want_names_and_strings() {
        let e = EnvironmentVariables::from_body(&json!({"FOO": "bar", "_x1": ""})).unwrap();
        assert_eq!(e.as_map()["FOO"], "bar");
        for bad in [
            json!(["FOO"]),
            json!({"1FOO": "x"}),
            json!({"FOO-BAR": "x"}),
            json!({"": "x"}),
            json!({"FOO": 1}),
            json!({"FOO": null}),
            json!({"FOO": "a\u{0}b"}),
        ] {
            assert!(EnvironmentVariables::from_body(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn functions_and_scripts_parse() {
        let f = NewFunction::from_body(&json!({
            "type": "user.sent.message", "name": " onMsg ", "initialize_asynchronously": true
        }))
        .unwrap();
        assert_eq!(f.trigger, FunctionTrigger::UserSentMessage);
        assert_eq!(f.name, "onMsg");
        assert!(f.initialize_asynchronously);
        let f = NewFunction::from_body(&json!({"type": "call.ended", "name": "x"})).unwrap();
        assert!(!f.initialize_asynchronously);
        for bad in [
            json!({"type": "user.sent.nothing", "name": "x"}),
            json!({"name": "x"}),
            json!({"type": "call.ended"}),
            json!({"type": "call.ended", "name": ""}),
            json!({"type": "call.ended", "name": "x", "description": 3}),
            json!({"type": "call.ended", "name": "x", "initialize_asynchronously": "yes"}),
        ] {
            assert!(NewFunction::from_body(&bad).is_err(), "{bad}");
        }
        assert!(HandlerScript::from_body(&json!({"handler_script": "x"})).is_ok());
        assert!(HandlerScript::from_body(&json!({"handler_script": "  "})).is_err());
        assert!(HandlerScript::from_body(&json!({})).is_err());
        assert_eq!(
            InitializationScript::from_body(&json!({"script": ""}))
                .unwrap()
                .as_str(),
            ""
        );
        assert!(InitializationScript::from_body(&json!({"script": 1})).is_err());
    }

    #[test]
    fn invocation_results_are_maps() {
        let ok = InvocationOutcome::Succeeded {
            payload: json!(["hi"]),
        };
        assert_eq!(ok.result(), json!({"payload": ["hi"]}));
        assert_eq!(ok.status(), InvocationStatus::Succeeded);
        let failed = InvocationOutcome::Failed {
            error: "boom".into(),
        };
        assert_eq!(failed.result(), json!({}));
        assert_eq!(failed.error(), Some("boom"));
        for s in ["RUNNING", "SUCCEEDED", "FAILED"] {
            assert_eq!(
                InvocationStatus::parse(s).map(InvocationStatus::as_str),
                Some(s)
            );
        }
    }

    #[test]
    fn install_reports_never_go_back() {
        let v = |p| RuntimeVersion {
            major: 0,
            minor: 0,
            patch: p,
        };
        let start = Installation::initial(1);
        assert_eq!(start.installed_version, Some(v(1)));
        let pending = start.pending(v(2));
        assert_eq!(pending.state, InstallState::Pending);

        // A report of the installed or an older version changes nothing.
        assert_eq!(
            pending.apply(&InstallOutcome::Installing { version: v(1) }, 5),
            None
        );
        let old_failure = InstallOutcome::Failed {
            version: v(1),
            output: "x".into(),
        };
        assert_eq!(pending.apply(&old_failure, 5), None);

        let installing = pending
            .apply(&InstallOutcome::Installing { version: v(2) }, 5)
            .unwrap();
        assert_eq!(installing.state, InstallState::Installing);
        let done = installing
            .apply(
                &InstallOutcome::Installed {
                    version: v(2),
                    output: "added 1 package".into(),
                },
                9,
            )
            .unwrap();
        assert_eq!(done.state, InstallState::Installed);
        assert_eq!(done.installed_version, Some(v(2)));
        assert_eq!(done.output.as_deref(), Some("added 1 package"));
        assert_eq!(done.finished, Some(9));
        // A repeated job's failure does not undo the install.
        let again = InstallOutcome::Failed {
            version: v(2),
            output: "x".into(),
        };
        assert_eq!(done.apply(&again, 10), None);

        // An install that ends after the next change moves the installed version only.
        let next = done.pending(v(4));
        let late = next
            .apply(
                &InstallOutcome::Installed {
                    version: v(3),
                    output: "late".into(),
                },
                11,
            )
            .unwrap();
        assert_eq!(late.state, InstallState::Pending);
        assert_eq!(late.version, v(4));
        assert_eq!(late.installed_version, Some(v(3)));
        // ... and an older one after that, nothing.
        let older = InstallOutcome::Installed {
            version: v(2),
            output: "older".into(),
        };
        assert_eq!(late.apply(&older, 12), None);
        let failed = late
            .apply(
                &InstallOutcome::Failed {
                    version: v(4),
                    output: "npm ERR!".into(),
                },
                13,
            )
            .unwrap();
        assert_eq!(failed.state, InstallState::Failed);
        assert_eq!(failed.installed_version, Some(v(3)));
    }
}
