//! Host state every context carries: which phase of its life the instance is in.

use std::cell::Cell;

use boa_engine::Context;

/// Whether the instance is still initializing (top-level module code) or handling a request.
/// Some built-ins (`new KVStore`) are only usable during request handling, as on Compute.
#[derive(Debug, Default)]
pub struct Phase {
    in_request: Cell<bool>,
}

impl Phase {
    pub fn install(context: &mut Context) {
        context.insert_data(Self::default());
    }

    pub fn enter_request(context: &Context) {
        if let Some(phase) = context.get_data::<Self>() {
            phase.in_request.set(true);
        }
    }

    pub fn in_request(context: &Context) -> bool {
        context
            .get_data::<Self>()
            .is_some_and(|phase| phase.in_request.get())
    }
}
