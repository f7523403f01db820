//! The platform API's pure parts: JSON field naming (snake_case or camelCase), page and cursor
//! requests, the values of its resources (reaction emoji, chat functions and their runtime) and
//! the elements of import files.

pub mod cursor;
pub mod emoji;
pub mod event;
pub mod functions;
pub mod imports;
pub mod merge_patch;
pub mod naming;
pub mod paging;
