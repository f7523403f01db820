//! What Palaver's fuzz targets share: the invariants of a parsed filter, filter trees written in
//! both of the content API's query forms, and a runtime for the async body extractors.

pub mod bodies;
pub mod filters;
pub mod runtime;
