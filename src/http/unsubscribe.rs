//! `/unsubscribe` (RFC 8058): `GET ?a=…&t=…` shows a confirmation page
//! and changes nothing (mail scanners follow links); `POST` with the body
//! `List-Unsubscribe=One-Click` (what mail clients send, or the page's
//! button) records the address in the unsubscribe bucket, idempotently.
//! A token that does not match the address is refused with 403. Until
//! the service is connected to NATS, or without `http.public_url` and
//! `http.unsubscribe_secret`, the route answers 503 / 404.

use crate::clock::SharedClock;
use crate::deliver::render::escape_html;
use crate::unsubscribe::{Links, Unsubscribed, address_of};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::sync::{Arc, OnceLock};

/// The path of the route.
pub const PATH: &str = "/unsubscribe";

/// What the route needs, set once NATS is connected.
#[derive(Clone)]
pub struct Unsubscriber {
    pub links: Option<Links>,
    pub set: Unsubscribed,
    pub clock: SharedClock,
}

/// Filled by `App` after connecting; the route reads it.
pub type UnsubscribeSlot = Arc<OnceLock<Unsubscriber>>;

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    a: String,
    #[serde(default)]
    t: String,
}

pub fn routes(slot: UnsubscribeSlot) -> Router {
    Router::new()
        .route(PATH, get(confirm).post(one_click))
        .with_state(slot)
}

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!("<!DOCTYPE html><html><body><p>{body}</p></body></html>\n");
    (status, Html(html)).into_response()
}

/// The address of a valid link, or the response refusing it.
fn check(slot: &UnsubscribeSlot, p: &Params) -> Result<(Unsubscriber, String), Box<Response>> {
    let Some(u) = slot.get() else {
        return Err(Box::new(page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not ready; try again shortly.",
        )));
    };
    let Some(links) = &u.links else {
        return Err(Box::new(page(
            StatusCode::NOT_FOUND,
            "Unsubscribe links are not enabled.",
        )));
    };
    match address_of(&p.a) {
        Some(address) if links.verify(&address, &p.t) => Ok((u.clone(), address)),
        _ => Err(Box::new(page(
            StatusCode::FORBIDDEN,
            "This unsubscribe link is not valid.",
        ))),
    }
}

async fn confirm(State(slot): State<UnsubscribeSlot>, Query(p): Query<Params>) -> Response {
    let (u, address) = match check(&slot, &p) {
        Ok(ok) => ok,
        Err(refused) => return *refused,
    };
    let who = escape_html(&address);
    if u.set.contains(&address) {
        return page(
            StatusCode::OK,
            &format!("{who} is unsubscribed from newsalert emails."),
        );
    }
    let action = format!("{PATH}?a={}&t={}", escape_html(&p.a), escape_html(&p.t));
    let body = format!(
        "Stop newsalert emails to {who}?</p><form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe</button></form><p>"
    );
    page(StatusCode::OK, &body)
}

async fn one_click(
    State(slot): State<UnsubscribeSlot>,
    Query(p): Query<Params>,
    body: String,
) -> Response {
    let (u, address) = match check(&slot, &p) {
        Ok(ok) => ok,
        Err(refused) => return *refused,
    };
    if !body
        .split('&')
        .any(|kv| kv.trim() == "List-Unsubscribe=One-Click")
    {
        return page(
            StatusCode::BAD_REQUEST,
            "Expected List-Unsubscribe=One-Click.",
        );
    }
    match u.set.add(&address, u.clock.now().timestamp_millis()).await {
        Ok(()) => {
            tracing::info!(target = %format!("email:***@{}", crate::alert::email_domain(&address)), "address unsubscribed");
            page(
                StatusCode::OK,
                "You are unsubscribed from newsalert emails.",
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "unsubscribe not recorded");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Could not record that; try again shortly.",
            )
        }
    }
}
