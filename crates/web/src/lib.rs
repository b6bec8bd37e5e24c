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
    header_timeout: std::time::Duration,
}

/// How long a client may take to send a request's headers (also the first request on a new
/// connection) before the connection is closed: a connection that never finishes a request
/// (slowloris) no longer holds a socket for ever.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// At most this many connections are open at once; further clients wait in the kernel's backlog.
/// Well below the process's file limit, so the database and the files keep theirs.
pub const MAX_CONNECTIONS: usize = 4096;

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
            header_timeout: HEADER_TIMEOUT,
        })
    }

    /// The same server with another header timeout (for tests).
    pub fn with_header_timeout(mut self, timeout: std::time::Duration) -> Server {
        self.header_timeout = timeout;
        self
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
        // Served with hyper's own HTTP/1 builder rather than axum::serve, which sets no timer:
        // a connection that never finishes its headers is closed after `header_timeout`, and
        // at most MAX_CONNECTIONS are open at once.
        const GRACE: std::time::Duration = std::time::Duration::from_secs(10);
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::server::graceful::GracefulShutdown;
        use hyper_util::service::TowerToHyperService;

        let graceful = GracefulShutdown::new();
        let places = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let place = tokio::select! {
                p = places.clone().acquire_owned() => p.expect("never closed"),
                _ = &mut shutdown => break,
            };
            let (stream, addr) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, as axum::serve does.
                        tracing::error!(error = %e, "verbinding niet aangenomen");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                },
                _ = &mut shutdown => break,
            };
            let service = self
                .router
                .clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(addr)));
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                let _ = conn.await;
                drop(place);
            });
        }
        drop(self.listener);
        // Requests in flight may finish, but a connection a client keeps open (idle keep-alive)
        // must not hold the server up: after the signal there are GRACE seconds, then it stops.
        tokio::select! {
            _ = graceful.shutdown() => Ok(()),
            _ = tokio::time::sleep(GRACE) => {
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
