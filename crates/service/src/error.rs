//! The service layer's error: a domain error meant for the caller, or a store failure that is
//! logged here, once, and shown to callers only as a generic server error.

use palaver_domain::{DomainError, ErrorCode};
use palaver_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// True when a unique name or key was already taken.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ServiceError::Store(StoreError::Conflict(_))
                | ServiceError::Domain(DomainError {
                    code: ErrorCode::Conflict,
                    ..
                })
        )
    }

    /// What the caller may see. Store failures are logged with their cause and become a bare
    /// internal error (or a conflict, when a unique index refused a concurrent write).
    pub fn into_domain(self) -> DomainError {
        match self {
            ServiceError::Domain(d) => d,
            ServiceError::Store(StoreError::Conflict(what)) => {
                tracing::info!(constraint = %what, "write refused by a unique index");
                DomainError::new(ErrorCode::Conflict, "The resource already exists")
            }
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "store failure");
                DomainError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, ServiceError>;

/// A server failure that is not the store's (a broken invariant, a value that did not
/// serialise): its cause is logged here, once, and callers see a bare internal error.
pub fn internal(cause: impl std::fmt::Display) -> DomainError {
    tracing::error!(cause = %cause, "internal error");
    DomainError::internal()
}
