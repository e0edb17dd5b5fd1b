//! An HTTP client built on its first request. Building a reqwest client loads the root
//! certificates, several milliseconds of a function's start; most processes hold clients
//! (AWS, Twilio, Google, webhooks) that a given instance may never use.

use std::sync::{Arc, OnceLock};

/// How to build the client, and the client once built (shared by the clones).
#[derive(Clone)]
pub struct LazyClient {
    what: &'static str,
    build: Arc<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>,
    cell: Arc<OnceLock<Option<reqwest::Client>>>,
}

impl LazyClient {
    /// `what` names the client in the one error logged when it cannot be built.
    pub fn new(
        what: &'static str,
        build: impl Fn() -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        Self {
            what,
            build: Arc::new(build),
            cell: Arc::new(OnceLock::new()),
        }
    }

    /// The client, built by the first call; `None` when it cannot be built (a client
    /// without the configured settings is never used in its place).
    pub fn get(&self) -> Option<&reqwest::Client> {
        self.cell
            .get_or_init(|| {
                (self.build)()
                    .build()
                    .inspect_err(|e| tracing::error!(client = self.what, error = %e, "HTTP client cannot be built"))
                    .ok()
            })
            .as_ref()
    }

    /// Whether the client was built (tests of the start).
    pub fn is_built(&self) -> bool {
        self.cell.get().is_some()
    }
}

impl std::fmt::Debug for LazyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient")
            .field("what", &self.what)
            .field("built", &self.is_built())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::LazyClient;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_client_is_built_once_at_the_first_use_and_shared_by_clones() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counted = builds.clone();
        let lazy = LazyClient::new("test", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            reqwest::Client::builder()
        });
        let clone = lazy.clone();
        assert!(!lazy.is_built());
        assert_eq!(
            builds.load(Ordering::SeqCst),
            0,
            "nothing built at construction"
        );
        assert!(clone.get().is_some());
        assert!(lazy.get().is_some());
        assert!(lazy.is_built());
        assert_eq!(
            builds.load(Ordering::SeqCst),
            1,
            "one build for both clones"
        );
    }
}
