//! URL tables that can be listed. axum's `Router` cannot enumerate its routes, so each face
//! builds its table through [`RouteTable`], which registers every route on a `Router` and
//! records its (method, path); the OpenAPI documents are checked against that record.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};
use axum::Router;

/// One served operation: an HTTP method on an axum path (`{id}` segments, as in OpenAPI).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    pub method: Method,
    pub path: String,
}

/// A `Router` and the list of what it was given.
pub struct RouteTable<S> {
    router: Router<S>,
    routes: Vec<Route>,
}

impl<S: Clone + Send + Sync + 'static> Default for RouteTable<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    /// Registers `methods` at `path` and records each of its methods.
    pub fn route(mut self, path: &str, methods: Methods<S>) -> Self {
        self.routes
            .extend(methods.methods.into_iter().map(|method| Route {
                method,
                path: path.to_string(),
            }));
        self.router = self.router.route(path, methods.router);
        self
    }

    /// What was registered, in registration order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn into_router(self) -> Router<S> {
        self.router
    }
}

/// axum's `MethodRouter` with the list of methods it answers (an implicit `HEAD` of a `GET` is
/// not listed: only what a handler was given for).
pub struct Methods<S> {
    router: MethodRouter<S>,
    methods: Vec<Method>,
}

macro_rules! first_verb {
    ($($name:ident => $method:ident),*) => {$(
        #[doc = concat!("A `", stringify!($method), "` route, recorded.")]
        pub fn $name<H, T, S>(handler: H) -> Methods<S>
        where
            H: Handler<T, S>,
            T: 'static,
            S: Clone + Send + Sync + 'static,
        {
            Methods {
                router: routing::$name(handler),
                methods: vec![Method::$method],
            }
        }
    )*};
}

first_verb!(get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE, head => HEAD);

macro_rules! more_verbs {
    ($($name:ident => $method:ident),*) => {$(
        #[doc = concat!("Adds a `", stringify!($method), "` handler, recorded.")]
        pub fn $name<H, T>(mut self, handler: H) -> Self
        where
            H: Handler<T, S>,
            T: 'static,
        {
            self.router = self.router.$name(handler);
            self.methods.push(Method::$method);
            self
        }
    )*};
}

impl<S: Clone + Send + Sync + 'static> Methods<S> {
    more_verbs!(get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE, head => HEAD);

    /// Lifts axum's body limit for the handlers given so far: uploads stream under the
    /// configured upload limit instead.
    pub fn unlimited_body(mut self) -> Self {
        self.router = self.router.layer(DefaultBodyLimit::disable());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_each_method_of_each_route() {
        let table: RouteTable<()> = RouteTable::new()
            .route("/a", get(|| async {}).post(|| async {}).unlimited_body())
            .route("/a/{id}", delete(|| async {}));
        let listed: Vec<(String, &str)> = table
            .routes()
            .iter()
            .map(|r| (r.method.to_string(), r.path.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("GET".to_string(), "/a"),
                ("POST".to_string(), "/a"),
                ("DELETE".to_string(), "/a/{id}"),
            ]
        );
    }
}
