//! The web interface of Startblok.
//!
//! Every route is declared once in [`routes::table`] together with its access rule; the router
//! is built from that table, so a route without a rule cannot exist. Handlers extract, call one
//! use case of `startblok-app`, and render an askama template.

pub mod access;
pub mod chart;
pub mod chrome;
pub mod error;
pub mod forms;
mod headers;
pub mod routes;
pub mod session;
mod static_files;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use startblok_app::App;
use tokio::net::TcpListener;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub cookies: Arc<session::CookieConfig>,
}

/// The HTTP server, bound to its port but not yet serving (zero2prod's `Application`): `main`
/// and every test build it the same way.
pub struct Server {
    listener: TcpListener,
    router: Router,
}

impl Server {
    /// Binds to `addr` (`127.0.0.1:0` picks a free port).
    pub async fn bind(app: App, addr: SocketAddr) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        // Received UWLR results are processed in this process (claims keep processes apart).
        app.start_intake_worker();
        let state = AppState {
            cookies: Arc::new(session::CookieConfig::for_public_url(
                &app.settings.public_url,
            )),
            app,
        };
        Ok(Server {
            listener,
            router: routes::router(state),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes; requests in flight are finished first.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Requests in flight may finish, but a connection a client keeps open (idle keep-alive)
        // must not hold the server up: after the signal there are GRACE seconds, then it stops.
        const GRACE: std::time::Duration = std::time::Duration::from_secs(10);
        let (said, mut heard) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = said.send(true);
        };
        let serve = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .into_future();
        let deadline = async move {
            let _ = heard.wait_for(|stop| *stop).await;
            tokio::time::sleep(GRACE).await;
        };
        tokio::select! {
            done = serve => done,
            _ = deadline => {
                tracing::warn!("open verbindingen na {GRACE:?} gesloten bij het stoppen");
                Ok(())
            }
        }
    }

    /// Serves in the background (for tests and tools); the server stops when the runtime ends.
    pub fn spawn(self) -> SocketAddr {
        let addr = self.local_addr();
        tokio::spawn(self.run_until(std::future::pending()));
        addr
    }
}

/// The demo's example Boom delivery, sent over HTTP to this server's own UWLR endpoint as Boom
/// would (only while the demo school has received none). `serve --demo` runs it once the server
/// listens; the browser walk does the same.
pub async fn send_demo_levering(app: App, addr: SocketAddr) {
    match app.demo_wants_levering().await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => return tracing::error!(error = %e, "demo-levering: database"),
    }
    let url = format!("http://{addr}/uwlr/v2/leerresultaten");
    let body = startblok_app::demo::DEMO_LEVERING.as_bytes().to_vec();
    match startblok_uwlr::client::send(&url, body).await {
        Ok(startblok_uwlr::client::Answer::Bevestiging) => {
            tracing::info!("demo-levering van Boom testcentrum ontvangen")
        }
        Ok(other) => tracing::error!(antwoord = ?other, "demo-levering geweigerd"),
        Err(e) => tracing::error!(error = %e, "demo-levering niet verstuurd"),
    }
}
