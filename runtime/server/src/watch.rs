//! `edgeshim serve --watch`: when a file of the project or its fastly.toml changes, the app is
//! loaded again and new requests run the new code; requests already running finish on the
//! old one. The KV stores are the same objects throughout, so their data stays (fastly.toml's
//! seeds are applied at start only); each version gets a fresh edge cache, as a new instance
//! does. A version that does not load (a syntax error, a top level that throws) is reported
//! with its file, line and the line itself, and the last good version keeps serving.
//!
//! Changes are seen through the operating system's file events (the `notify` crate), for the
//! folder of the project (fastly.toml's, else the app's), skipping `node_modules`, `.git`,
//! the state folder and build output.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgeshim_engine::{App, AppSettings, Edge, Pool, PoolError};
use edgeshim_store::Stores;
use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::config::FastlyToml;
use crate::http::CurrentPool;
use crate::{ServeOptions, StartError};

/// Editors save in several steps (write a temporary file, rename it): changes this close
/// together make one reload.
const SETTLE: Duration = Duration::from_millis(10);

/// Folders whose changes never reload the app.
const IGNORED: &[&str] = &["node_modules", ".git", ".edgeshim", "target", "bin", "pkg"];

/// The files that make the app: its modules (JS, TypeScript, JSX, JSON) and the project's
/// configuration. Anything else (a log the server writes into the folder, a README) does
/// not reload it.
const WATCHED_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "ts", "mts", "cts", "tsx", "jsx", "json", "toml",
];

/// What every version of the app is built from: the same stores, the options of the start.
#[derive(Debug, Clone)]
pub struct Build {
    pub app: PathBuf,
    pub stores: Stores,
    pub locations: Vec<Stores>,
    /// The edge caches and rate counters, kept across reloads as the stores are.
    pub edge: Edge,
    pub options: ServeOptions,
}

impl Build {
    /// The app with the settings `config` gives.
    ///
    /// # Errors
    /// The entry cannot be read or does not parse.
    pub fn app(&self, config: &FastlyToml) -> Result<App, StartError> {
        Ok(App::new(&self.app, self.stores.clone())
            .map_err(PoolError::from)?
            .with_settings(AppSettings {
                env: self.options.env.clone(),
                strict: self.options.strict,
                enable_http_cache: self.options.enable_http_cache,
                backends: config.backends.clone(),
                config_stores: config.config_stores.clone(),
                secret_stores: config.secret_stores.clone(),
                geolocation: config.geolocation.clone(),
                acls: config.acls.clone(),
                user_agents: config.user_agents.clone(),
            })
            .with_locations(self.locations.clone(), self.edge.clone()))
    }
}

/// Reloads while it lives.
#[derive(Debug)]
pub struct Watcher {
    _events: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn ignored(path: &Path, root: &Path) -> bool {
    let watched = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| WATCHED_EXTENSIONS.contains(&e));
    if !watched {
        return true;
    }
    let inside = path.strip_prefix(root).unwrap_or(path);
    inside.components().any(|c| match c {
        Component::Normal(name) => IGNORED.iter().any(|i| name == *i),
        _ => false,
    }) || path
        .file_name()
        .and_then(|n| n.to_str())
        // Editors' swap and backup files.
        .is_some_and(|n| n.ends_with('~') || n.ends_with(".swp") || n.starts_with(".#"))
}

/// Starts watching the project of `build` and reloading `current` on changes.
///
/// # Errors
/// The operating system refuses to watch the folder.
pub fn start(
    build: Build,
    config: FastlyToml,
    current: Arc<CurrentPool>,
) -> Result<Watcher, StartError> {
    let root = if config.path.as_os_str().is_empty() {
        build.app.parent().map(Path::to_owned)
    } else {
        config.path.parent().map(Path::to_owned)
    }
    .filter(|p| !p.as_os_str().is_empty())
    .unwrap_or_else(|| PathBuf::from("."));
    let root = std::path::absolute(&root).unwrap_or(root);
    let (sender, mut changes) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let filter_root = root.clone();
    let mut events = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if !matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
        ) {
            return;
        }
        for path in event.paths {
            if !ignored(&path, &filter_root) {
                let _ = sender.send(path);
            }
        }
    })
    .map_err(|source| StartError::Watch {
        path: root.clone(),
        source,
    })?;
    events
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|source| StartError::Watch {
            path: root.clone(),
            source,
        })?;
    tracing::info!("watching {} for changes (--watch)", root.display());
    let task = tokio::spawn(async move {
        let mut config = config;
        while let Some(first) = changes.recv().await {
            let saved = Instant::now();
            tokio::time::sleep(SETTLE).await;
            while changes.try_recv().is_ok() {}
            if let Some(fresh) = reload(&build, &config, &current, &first, saved).await {
                config = fresh;
            }
        }
    });
    Ok(Watcher {
        _events: events,
        task,
    })
}

/// Loads the app again; on success new requests go to it. Returns the config it used when
/// that changed.
async fn reload(
    build: &Build,
    config: &FastlyToml,
    current: &Arc<CurrentPool>,
    changed: &Path,
    saved: Instant,
) -> Option<FastlyToml> {
    let failed = |why: &str| {
        tracing::error!(
            "{} changed; the new version does not load, the previous one keeps serving:\n{why}",
            changed.display()
        );
    };
    let fresh_config = if !config.path.as_os_str().is_empty() && changed == config.path {
        match FastlyToml::load(&config.path, &std::env::current_dir().unwrap_or_default()) {
            Ok(fresh) => {
                if fresh.kv_stores != config.kv_stores {
                    tracing::warn!(
                        "fastly.toml's KV stores changed: seeds are applied when the server \
                         starts; restart it to apply them"
                    );
                }
                Some(fresh)
            }
            Err(e) => {
                failed(&e.to_string());
                return None;
            }
        }
    } else {
        None
    };
    let app = match build.app(fresh_config.as_ref().unwrap_or(config)) {
        Ok(app) => app,
        Err(e) => {
            failed(&e.to_string());
            return None;
        }
    };
    let app_path = app.path().to_owned();
    let pool_config = build.options.pool.clone();
    let started = tokio::task::spawn_blocking(move || Pool::start(app, &pool_config)).await;
    let pool = match started {
        Ok(Ok(pool)) => pool,
        Ok(Err(e)) => {
            failed(&crate::boot_message(&e));
            return None;
        }
        Err(e) => {
            failed(&e.to_string());
            return None;
        }
    };
    let old = current.replace(pool);
    tracing::info!(
        "reloaded {} in {:.1} ms ({} changed)",
        app_path.display(),
        saved.elapsed().as_secs_f64() * 1000.0,
        changed.display()
    );
    // The old version ends once its last request has; dropping it may wait for its
    // workers, so off the async threads.
    tokio::task::spawn_blocking(move || {
        let until = Instant::now() + old_version_grace();
        while Arc::strong_count(&old) > 1 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(old);
    });
    fresh_config
}

/// How long an old version may keep requests running after a reload: Compute's longest
/// request, and a little.
fn old_version_grace() -> Duration {
    edgeshim_engine::WALL_LIMIT + Duration::from_secs(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_state_and_editor_files_are_ignored() {
        let root = Path::new("/p");
        assert!(ignored(Path::new("/p/node_modules/x/index.js"), root));
        assert!(ignored(Path::new("/p/.edgeshim/kv.sqlite3-wal"), root));
        assert!(ignored(Path::new("/p/src/.index.js.swp"), root));
        assert!(ignored(Path::new("/p/src/index.js~"), root));
        assert!(ignored(Path::new("/p/serve.log"), root));
        assert!(ignored(Path::new("/p/README.md"), root));
        assert!(!ignored(Path::new("/p/src/index.js"), root));
        assert!(!ignored(Path::new("/p/src/page.tsx"), root));
        assert!(!ignored(Path::new("/p/fastly.toml"), root));
        assert!(!ignored(Path::new("/p/tsconfig.json"), root));
    }
}
