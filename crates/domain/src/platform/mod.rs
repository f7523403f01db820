//! The platform API's pure parts: JSON field naming (snake_case or camelCase), page requests,
//! and the values of its resources.

pub mod merge_patch;
pub mod naming;
pub mod paging;
