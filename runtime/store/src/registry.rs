//! The named stores an app can open with `new KVStore(name)`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{HostChecked, KvStore};

/// A registry of named stores, cheap to clone (the map is shared).
///
/// Every store put in is wrapped in [`HostChecked`], so whatever the backend, stores taken
/// out apply the host-side key checks.
#[derive(Clone, Default)]
pub struct Stores {
    stores: Arc<BTreeMap<String, Arc<dyn KvStore>>>,
}

impl Stores {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `store` under `name`, replacing any store of that name.
    ///
    /// Clones made earlier keep the map they had: the registry is built before serving.
    pub fn insert(&mut self, name: impl Into<String>, store: Arc<dyn KvStore>) {
        let checked: Arc<dyn KvStore> = Arc::new(HostChecked::new(store));
        Arc::make_mut(&mut self.stores).insert(name.into(), checked);
    }

    /// The store named `name`, with the host-side checks applied.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Arc<dyn KvStore>> {
        self.stores.get(name).cloned()
    }

    /// Store names in sorted order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.stores.keys().map(String::as_str)
    }

    /// Number of stores.
    #[must_use]
    pub fn len(&self) -> usize {
        self.stores.len()
    }

    /// Whether no store is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}
