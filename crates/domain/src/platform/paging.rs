//! Page requests of the platform API's collections (Spring Data style): zero-based `page`,
//! `size` (default 25, at most [`MAX_SIZE`]) and repeated `sort=property,asc|desc`.

use crate::error::{DomainError, ErrorCode};

pub const DEFAULT_SIZE: u64 = 25;
/// The largest page a client may ask for.
pub const MAX_SIZE: u64 = 100;

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// snake_case property name.
    pub property: String,
    pub descending: bool,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub size: u64,
    pub sort: Vec<Sort>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 0,
            size: DEFAULT_SIZE,
            sort: Vec::new(),
        }
    }
}

fn invalid(message: String) -> DomainError {
    DomainError::new(ErrorCode::InvalidParameter, message)
}

impl PageRequest {
    /// Reads `page`, `size` and `sort` from query pairs; `sortable` lists the snake_case
    /// properties this collection can be sorted by.
    pub fn from_query(pairs: &[(String, String)], sortable: &[&str]) -> Result<Self, DomainError> {
        let mut req = PageRequest::default();
        for (k, v) in pairs {
            match k.as_str() {
                "page" => {
                    req.page = v.trim().parse::<u64>().map_err(|_| {
                        invalid(format!(
                            "page must be a whole number of 0 or more, not \"{v}\""
                        ))
                    })?
                }
                "size" => {
                    req.size = v
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|s| (1..=MAX_SIZE).contains(s))
                        .ok_or_else(|| {
                            invalid(format!(
                                "size must be a whole number from 1 to {MAX_SIZE}, not \"{v}\""
                            ))
                        })?
                }
                "sort" => {
                    let (prop, dir) = match v.split_once(',') {
                        Some((p, d)) => (p.trim(), d.trim()),
                        None => (v.trim(), "asc"),
                    };
                    let property = crate::platform::naming::to_snake(prop);
                    if !sortable.contains(&property.as_str()) {
                        return Err(invalid(format!(
                            "cannot sort by \"{prop}\"; sortable properties: {}",
                            sortable.join(", ")
                        )));
                    }
                    let descending = match dir.to_ascii_lowercase().as_str() {
                        "asc" | "" => false,
                        "desc" => true,
                        _ => {
                            return Err(invalid(format!(
                                "sort direction must be asc or desc, not \"{dir}\""
                            )))
                        }
                    };
                    req.sort.push(Sort {
                        property,
                        descending,
                    });
                }
                _ => {}
            }
        }
        // The offset must fit the databases' signed 64-bit OFFSET.
        if req
            .page
            .checked_mul(req.size)
            .is_none_or(|offset| offset > i64::MAX as u64)
        {
            return Err(invalid(format!(
                "page {} of size {} is past any collection",
                req.page, req.size
            )));
        }
        Ok(req)
    }

    pub fn offset(&self) -> u64 {
        self.page.saturating_mul(self.size)
    }

    /// Pages in a collection of `total` elements.
    pub fn total_pages(&self, total: u64) -> u64 {
        total.div_ceil(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(
            PageRequest::from_query(&[], &["name"]).unwrap(),
            PageRequest::default()
        );
        let r = PageRequest::from_query(
            &q(&[
                ("page", "2"),
                ("size", "10"),
                ("sort", "name,desc"),
                ("sort", "id"),
            ]),
            &["name", "id"],
        )
        .unwrap();
        assert_eq!((r.page, r.size, r.offset()), (2, 10, 20));
        assert_eq!(
            r.sort,
            vec![
                Sort {
                    property: "name".into(),
                    descending: true
                },
                Sort {
                    property: "id".into(),
                    descending: false
                }
            ]
        );
        let r =
            PageRequest::from_query(&q(&[("sort", "createdTime,ASC")]), &["created_time"]).unwrap();
        assert_eq!(r.sort[0].property, "created_time");
    }

    #[test]
    fn bad_values_are_invalid_parameters() {
        for pairs in [
            q(&[("page", "-1")]),
            q(&[("page", "x")]),
            q(&[("size", "0")]),
            q(&[("size", "101")]),
            q(&[("sort", "secret,asc")]),
            q(&[("sort", "name,sideways")]),
            q(&[("page", "18446744073709551615")]),
            q(&[("page", "92233720368547759"), ("size", "100")]),
        ] {
            let e = PageRequest::from_query(&pairs, &["name"]).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{pairs:?}");
        }
    }

    #[test]
    fn the_largest_page_still_has_a_signed_offset() {
        let r = PageRequest::from_query(&q(&[("page", "92233720368547758"), ("size", "100")]), &[])
            .unwrap();
        assert_eq!(r.offset(), 9_223_372_036_854_775_800);
    }

    #[test]
    fn total_pages_rounds_up() {
        let r = PageRequest {
            size: 2,
            ..PageRequest::default()
        };
        assert_eq!(
            (r.total_pages(6), r.total_pages(7), r.total_pages(0)),
            (3, 4, 0)
        );
    }
}
