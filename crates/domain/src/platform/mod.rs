//! The platform API's pure parts: JSON field naming (snake_case or camelCase), page and cursor
//! requests, and the values of its resources (reaction emoji).

pub mod cursor;
pub mod emoji;
pub mod event;
pub mod merge_patch;
pub mod naming;
pub mod paging;
