//! Palaver's pure domain: ids, timestamps, the content models, the LoopBack filter AST and the error table.
//! Nothing here does I/O.

pub mod channel_runs;
pub mod delivery;
pub mod error;
pub mod filter;
pub mod id;
pub mod job;
pub mod js_date;
pub mod model;
pub mod models;
pub mod platform;
pub mod time;
pub mod validation;

pub use error::{DomainError, ErrorCode};
pub use model::{Field, Kind, Model, Relation, RelationKind};
