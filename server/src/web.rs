//! The HTTP application: routes, the Leptos pages and server functions, and the middleware
//! stack in the order a request meets it.

use crate::extract::BODY_LIMIT_BYTES;
use crate::middleware;
use crate::routes;
use crate::state::AppState;
use app::server::ServerContext;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderName, Uri};
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::services::fs::ServeFileSystemResponseBody;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let leptos_options = state.leptos_options.clone();
    let page_routes = generate_route_list(app::App);
    let server_context = ServerContext {
        services: state.services.clone(),
        secure_cookies: state.secure_cookies(),
    };
    // The bundle's files live in `<site>/pkg`; pages name them under `/pkg/<version>`.
    let pkg_dir = std::path::Path::new(&*leptos_options.site_root).join("pkg");
    let versioned = format!("/{}", leptos_options.site_pkg_dir);
    // On what was found only: a 404 must not be cached for a year.
    let bundle = |cache: &'static str| {
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                CACHE_CONTROL,
                move |response: &Response<ServeFileSystemResponseBody>| {
                    response
                        .status()
                        .is_success()
                        .then(|| HeaderValue::from_static(cache))
                },
            ))
            .service(
                ServeDir::new(&pkg_dir)
                    .precompressed_br()
                    .precompressed_gzip(),
            )
    };

    Router::new()
        .merge(routes::router())
        .leptos_routes_with_context(
            &state,
            page_routes,
            move || provide_context(server_context.clone()),
            move || app::shell(leptos_options.clone()),
        )
        .nest_service(&versioned, bundle(crate::bundle::IMMUTABLE))
        .nest_service("/pkg", bundle("no-cache"))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::resolve_auth))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // HTML only. JSON answers carry fresh secrets (tokens, links) next to what a
                // caller sent, which on-the-fly compression would expose to BREACH; pages carry
                // none (no server-rendered data is a secret: the session cookie is HttpOnly,
                // new tokens and links come from actions, never from page data). The bundle is
                // precompressed on disk.
                .layer(CompressionLayer::new().compress_when(is_html))
                .layer(axum::middleware::from_fn(middleware::json_errors))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::security_headers,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::host_check,
                ))
                .layer(CatchPanicLayer::new())
                .layer(axum::middleware::from_fn(middleware::deadline))
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES)),
        )
        .with_state(state)
}

/// Whether a response is a page (the one kind of response compressed on the fly).
fn is_html(
    _: axum::http::StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Unknown machine paths → JSON 404; anything else is a page the SPA renders (its 404 page).
async fn fallback(State(state): State<AppState>, uri: Uri, req: Request<Body>) -> Response {
    if middleware::is_machine_path(uri.path()) {
        return routes::not_found().await.into_response();
    }
    let render = leptos_axum::file_and_error_handler::<AppState, _>(app::shell);
    render(uri, State(state), req).await
}
