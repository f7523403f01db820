//! Who is calling: an account of one organisation, with its role.

use palaver_domain::DomainError;

/// Account roles of the content API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Owns the organisation account.
    Superadmin,
    /// Manages the organisation's bots and content.
    Owner,
    /// A bot user: may read and edit only itself.
    Customer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "superadmin" => Some(Role::Superadmin),
            "owner" => Some(Role::Owner),
            "customer" => Some(Role::Customer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Superadmin => "superadmin",
            Role::Owner => "owner",
            Role::Customer => "customer",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: String,
    pub organisation_id: String,
    pub role: Role,
    pub username: Option<String>,
    /// Digest of the token the call came with (to log out, or keep on password change).
    pub token_digest: String,
}

impl Principal {
    /// Superadmins and owners manage their organisation; bot users may not.
    pub fn require_admin(&self) -> Result<(), DomainError> {
        match self.role {
            Role::Superadmin | Role::Owner => Ok(()),
            Role::Customer => Err(DomainError::authorization_required()),
        }
    }
}
