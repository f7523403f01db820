//! `GET /avatars/{name}.svg`: the default display picture of a chat user, an initial on a colour
//! derived from the name, so every user has a working picture URL without external services.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use palaver_service::Services;

const COLOURS: [&str; 8] = [
    "#e57373", "#64b5f6", "#81c784", "#ffb74d", "#ba68c8", "#4db6ac", "#f06292", "#7986cb",
];

pub(crate) fn routes() -> Router<Services> {
    Router::new().route("/avatars/{file}", get(avatar))
}

fn escape(c: char) -> String {
    match c {
        '<' => "&lt;".into(),
        '>' => "&gt;".into(),
        '&' => "&amp;".into(),
        '"' => "&quot;".into(),
        '\'' => "&apos;".into(),
        c => c.to_string(),
    }
}

/// The SVG for a name: its first letter, upper-cased, on one of eight colours.
pub(crate) fn svg(name: &str) -> String {
    let initial = name
        .chars()
        .find(|c| !c.is_whitespace())
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    let hash = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let colour = COLOURS[(hash % COLOURS.len() as u32) as usize];
    let text: String = initial.chars().map(escape).collect();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"128\" height=\"128\" viewBox=\"0 0 128 128\">\
<rect width=\"128\" height=\"128\" fill=\"{colour}\"/>\
<text x=\"64\" y=\"84\" font-family=\"sans-serif\" font-size=\"64\" fill=\"#fff\" text-anchor=\"middle\">{text}</text></svg>"
    )
}

async fn avatar(Path(file): Path<String>) -> Response {
    let name = file.strip_suffix(".svg").unwrap_or(&file);
    let mut res = svg(name).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_escaped_and_colours_stable() {
        assert!(svg("alice").contains(">A</text>"));
        assert!(svg("<bob>").contains(">&lt;</text>"));
        assert_eq!(svg("carol"), svg("carol"));
        assert!(svg("").contains("></text>"));
    }
}
