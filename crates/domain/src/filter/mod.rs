//! The LoopBack filter language as a typed tree: `where`, `fields`, `order`, `limit`, `skip`,
//! `include`. [`parse`] builds it from the JSON a client sends, with LoopBack's normalisation and
//! value coercion, checked against a [`crate::Model`]; the store compiles it to SQL.

mod parse;
#[cfg(test)]
mod tests;

pub use parse::{parse_filter, parse_where};

use crate::model::{Field, Relation};

/// A parsed, normalised filter.
#[derive(Debug, Clone)]
pub struct Filter {
    pub r#where: Where,
    pub fields: Option<Projection>,
    pub order: Vec<Order>,
    pub limit: Option<u64>,
    pub skip: u64,
    pub include: Vec<Include>,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            r#where: Where::All,
            fields: None,
            order: Vec::new(),
            limit: None,
            skip: 0,
            include: Vec::new(),
        }
    }
}

/// A where clause.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Where {
    /// Matches every row (no clause, or an empty `and`).
    All,
    /// Matches no row (an empty `or`, an empty `inq`).
    Nothing,
    And(Vec<Where>),
    Or(Vec<Where>),
    /// One test on one field.
    Test {
        field: &'static Field,
        test: Test,
    },
}

impl Where {
    /// Joins two clauses with AND, folding the trivial cases.
    pub fn and(self, other: Where) -> Where {
        match (self, other) {
            (Where::All, w) | (w, Where::All) => w,
            (Where::And(mut a), w) => {
                a.push(w);
                Where::And(a)
            }
            (a, b) => Where::And(vec![a, b]),
        }
    }
}

/// A comparison, with values already coerced to the field's kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Test {
    Eq(Scalar),
    Neq(Scalar),
    Gt(Scalar),
    Gte(Scalar),
    Lt(Scalar),
    Lte(Scalar),
    Between(Scalar, Scalar),
    Inq(Vec<Scalar>),
    Nin(Vec<Scalar>),
    /// SQL `LIKE` with `%` and `_` wildcards.
    Like {
        pattern: String,
        negated: bool,
        case_insensitive: bool,
    },
    Regexp {
        pattern: String,
        case_insensitive: bool,
    },
}

/// A coerced filter value. Dates are epoch milliseconds.
#[derive(Debug, Clone)]
pub enum Scalar {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

// Floats compare and hash by their bits, so a parsed filter can key a cache: two filters are
// equal exactly when they would run the same SQL.
impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Scalar::Null, Scalar::Null) => true,
            (Scalar::Text(a), Scalar::Text(b)) => a == b,
            (Scalar::Int(a), Scalar::Int(b)) => a == b,
            (Scalar::Float(a), Scalar::Float(b)) => a.to_bits() == b.to_bits(),
            (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Scalar {}

impl std::hash::Hash for Scalar {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Scalar::Null => {}
            Scalar::Text(t) => t.hash(state),
            Scalar::Int(i) => i.hash(state),
            Scalar::Float(f) => f.to_bits().hash(state),
            Scalar::Bool(b) => b.hash(state),
        }
    }
}

/// One sort key.
#[derive(Debug, Clone)]
pub struct Order {
    pub field: &'static Field,
    pub descending: bool,
}

/// Which properties to return.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    Only(Vec<String>),
    Except(Vec<String>),
}

impl Projection {
    /// True when a property of this name is to be returned.
    pub fn keeps(&self, name: &str) -> bool {
        match self {
            Projection::Only(names) => names.iter().any(|n| n == name),
            Projection::Except(names) => !names.iter().any(|n| n == name),
        }
    }
}

/// A relation to embed, with an optional filter on the related rows.
#[derive(Debug, Clone)]
pub struct Include {
    pub relation: &'static Relation,
    pub scope: Filter,
}
