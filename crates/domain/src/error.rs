//! The one error table: every error Palaver can answer with, its HTTP status, and the names each
//! face shows for it. Faces render an [`DomainError`] in their own wire shape; none invents codes.

use serde_json::Value;

/// A stable error kind. Each row is one line of the table in [`ErrorCode::status`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No usable credentials, or the caller may not do this (LoopBack answers 401 for ACL denials).
    AuthorizationRequired,
    /// Wrong email or password.
    LoginFailed,
    /// Login body without email or username.
    UsernameEmailRequired,
    /// Login email not a string.
    InvalidEmail,
    /// Logout without a valid token.
    LogoutWithoutToken,
    /// A parent or prototype target is missing (`could not find a model with id X`).
    ParentNotFound,
    /// A child under a parent is missing (`No instance with id X found for flakes`).
    ChildNotFound,
    /// A plain lookup missed (`Unknown "user" id "X".`).
    UnknownId,
    /// A replace (`PUT /model/:id`) missed.
    ReplaceTargetMissing,
    /// A body failed validation (422 `ValidationError`).
    ValidationFailed,
    /// A bad password value on write.
    InvalidPassword,
    /// A password over 72 bytes.
    PasswordTooLong,
    /// A filter or query-string value that cannot be used.
    BadFilter,
    /// A `$`-prefixed operator in a where clause.
    OperatorNotAllowed,
    /// A where clause nested deeper than allowed.
    QueryTooDeep,
    /// A request body that is not valid JSON.
    MalformedBody,
    /// Any other malformed request.
    BadRequest,
    /// No route answers this method and path.
    RouteNotFound,
    /// A uniqueness rule was broken outside validation (e.g. a concurrent insert won the race).
    Conflict,
    /// A platform API lookup missed.
    NotFound,
    /// A platform API parameter or body value that cannot be used.
    InvalidParameter,
    /// The caller may not do this (platform API).
    AccessDenied,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// `Accept` excludes every JSON media type.
    NotAcceptable,
    /// Platform API call without a bearer token.
    Unauthenticated,
    /// Platform API call with an unknown or expired bearer token.
    InvalidBearer,
    /// OAuth: the client could not be authenticated.
    InvalidClient,
    /// OAuth: a grant other than client credentials.
    UnsupportedGrantType,
    /// OAuth: a required field is missing or malformed.
    InvalidRequest,
    /// A request body (an upload, or a JSON body) larger than the configured limit.
    PayloadTooLarge,
    /// Too many requests from one caller (application, token or address) for now.
    RateLimited,
    /// The server is at its limit of requests in flight: shed, to be retried shortly.
    Overloaded,
    /// A `Range` that selects none of the file.
    RangeNotSatisfiable,
    /// The server failed; details are logged, never sent.
    Internal,
}

impl ErrorCode {
    /// The HTTP status this error answers with.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            AuthorizationRequired
            | LoginFailed
            | LogoutWithoutToken
            | Unauthenticated
            | InvalidBearer
            | InvalidClient => 401,
            UsernameEmailRequired
            | InvalidEmail
            | BadFilter
            | OperatorNotAllowed
            | QueryTooDeep
            | MalformedBody
            | BadRequest
            | InvalidParameter
            | UnsupportedGrantType
            | InvalidRequest => 400,
            AccessDenied => 403,
            ParentNotFound | ChildNotFound | UnknownId | ReplaceTargetMissing | RouteNotFound
            | NotFound => 404,
            MethodNotAllowed => 405,
            NotAcceptable => 406,
            PayloadTooLarge => 413,
            RateLimited => 429,
            RangeNotSatisfiable => 416,
            ValidationFailed | InvalidPassword | PasswordTooLong => 422,
            Conflict => 409,
            Internal => 500,
            Overloaded => 503,
        }
    }

    /// The LoopBack `code` field, where LoopBack sends one.
    pub fn loopback_code(self) -> Option<&'static str> {
        use ErrorCode::*;
        match self {
            AuthorizationRequired => Some("AUTHORIZATION_REQUIRED"),
            LoginFailed => Some("LOGIN_FAILED"),
            UsernameEmailRequired => Some("USERNAME_EMAIL_REQUIRED"),
            InvalidEmail => Some("INVALID_EMAIL"),
            ParentNotFound | UnknownId => Some("MODEL_NOT_FOUND"),
            InvalidPassword => Some("INVALID_PASSWORD"),
            PasswordTooLong => Some("PASSWORD_TOO_LONG"),
            OperatorNotAllowed => Some("OPERATOR_NOT_ALLOWED_IN_QUERY"),
            QueryTooDeep => Some("QUERY_OBJECT_TOO_DEEP"),
            _ => None,
        }
    }

    /// The platform API's `error` name (an RFC 6749 code for the OAuth and bearer errors).
    pub fn platform_name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ParentNotFound | ChildNotFound | UnknownId | ReplaceTargetMissing | RouteNotFound
            | NotFound => "ResourceNotFoundError",
            ValidationFailed
            | BadFilter
            | OperatorNotAllowed
            | QueryTooDeep
            | BadRequest
            | InvalidParameter
            | InvalidPassword
            | PasswordTooLong
            | UsernameEmailRequired
            | InvalidEmail => "InvalidParameterError",
            MalformedBody => "MalformedRequestError",
            Conflict => "DuplicateResourceError",
            AccessDenied => "AccessDeniedError",
            MethodNotAllowed => "MethodNotAllowedError",
            NotAcceptable => "NotAcceptableError",
            PayloadTooLarge => "PayloadTooLargeError",
            RateLimited => "RateLimitedError",
            RangeNotSatisfiable => "RangeNotSatisfiableError",
            AuthorizationRequired | LoginFailed | LogoutWithoutToken | Unauthenticated => {
                "unauthorized"
            }
            InvalidBearer => "invalid_token",
            InvalidClient => "invalid_client",
            UnsupportedGrantType => "unsupported_grant_type",
            InvalidRequest => "invalid_request",
            Internal => "InternalServerError",
            Overloaded => "ServiceUnavailableError",
        }
    }

    /// The LoopBack error `name`.
    pub fn loopback_name(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "ValidationError",
            ErrorCode::MalformedBody => "SyntaxError",
            // The names of body-parser's and http-errors' errors, which Express apps answer with.
            ErrorCode::PayloadTooLarge => "PayloadTooLargeError",
            ErrorCode::RateLimited => "TooManyRequestsError",
            _ => "Error",
        }
    }
}

/// An error as every layer above the store sees it: a code from the table, a message fit for the
/// caller, and optional structured details (validation errors, offending operators).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
}

impl DomainError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn authorization_required() -> Self {
        Self::new(ErrorCode::AuthorizationRequired, "Authorization Required")
    }

    /// `could not find a model with id X` (missing parent on a relation or prototype route).
    pub fn parent_not_found(id: &str) -> Self {
        Self::new(
            ErrorCode::ParentNotFound,
            format!("could not find a model with id {id}"),
        )
    }

    /// `No instance with id X found for flakes` (missing child under an existing parent).
    pub fn child_not_found(id: &str, model: &str) -> Self {
        Self::new(
            ErrorCode::ChildNotFound,
            format!("No instance with id {id} found for {model}"),
        )
    }

    /// `Unknown "user" id "X".` (missing plain lookup).
    pub fn unknown_id(model: &str, id: &str) -> Self {
        Self::new(
            ErrorCode::UnknownId,
            format!("Unknown \"{model}\" id \"{id}\"."),
        )
    }

    pub fn bad_filter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadFilter, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// A server failure. The cause goes to the log; the message is the only thing callers see.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "Internal Server Error")
    }
}
