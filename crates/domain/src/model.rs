//! How a content model is described: its LoopBack name, its table, its fields in output order, and
//! its relations. The store, the filter compiler and the renderers all read these descriptions, so a
//! field is declared once.

/// How a field is stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The primary key: 24-char hex text.
    Id,
    /// Plain text.
    Text,
    /// A whole number.
    Int,
    /// true / false.
    Bool,
    /// A point in time: stored as epoch milliseconds, shown as ISO-8601.
    Date,
    /// A list of strings (ids or names), stored as a JSON array; a filter on it matches when any
    /// element matches.
    TextArray,
    /// Any JSON document (objects, lists of objects); stored as JSON text, not filterable beyond null.
    Json,
}

impl Kind {
    /// True for kinds that compare as one scalar column value.
    pub fn is_scalar(self) -> bool {
        !matches!(self, Kind::TextArray | Kind::Json)
    }
}

/// One field of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Clients may set it on create and update.
    pub writable: bool,
    /// Never rendered and never filterable (a password hash).
    pub hidden: bool,
}

impl Field {
    /// A field clients may write.
    pub const fn w(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            writable: true,
            hidden: false,
        }
    }

    /// A field the server sets (ids, parents, timestamps).
    pub const fn r(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            writable: false,
            hidden: false,
        }
    }

    /// A writable field that is never shown.
    pub const fn secret(name: &'static str) -> Self {
        Self {
            name,
            kind: Kind::Text,
            writable: true,
            hidden: true,
        }
    }
}

/// The two relation shapes the content API has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// `key` on this model holds the target's id.
    BelongsTo,
    /// `key` on the target holds this model's id.
    HasMany,
}

/// A named relation, usable in `include`.
#[derive(Debug, Clone, Copy)]
pub struct Relation {
    pub name: &'static str,
    pub kind: RelationKind,
    /// The target model's LoopBack name (see [`crate::models::by_name`]).
    pub target: &'static str,
    pub key: &'static str,
}

/// A content model.
#[derive(Debug)]
pub struct Model {
    /// LoopBack's model name, used in messages (`flakes`, `user`).
    pub name: &'static str,
    pub table: &'static str,
    /// Fields in output order.
    pub fields: &'static [Field],
    pub relations: &'static [Relation],
}

impl Model {
    /// The visible (non-hidden) field with this name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name && !f.hidden)
    }

    /// Any field with this name, hidden ones included.
    pub fn any_field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn relation(&self, name: &str) -> Option<&'static Relation> {
        self.relations.iter().find(|r| r.name == name)
    }
}
