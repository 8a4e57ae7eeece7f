//! Host state every context carries: which phase of its life the instance is in.

use std::cell::Cell;

use boa_engine::Context;

/// Whether the instance is still initializing (top-level module code) or handling a request.
/// Some built-ins (`new KVStore`) are only usable during request handling, as on Compute.
/// It also holds the simulated edge location (`--pops`) serving the current request.
#[derive(Debug, Default)]
pub struct Phase {
    in_request: Cell<bool>,
    pop: Cell<usize>,
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

    /// Records the edge location serving the current request.
    pub fn set_pop(context: &Context, pop: usize) {
        if let Some(phase) = context.get_data::<Self>() {
            phase.pop.set(pop);
        }
    }

    /// The edge location serving the current request (0 when there is only one).
    pub fn pop(context: &Context) -> usize {
        context
            .get_data::<Self>()
            .map_or(0, |phase| phase.pop.get())
    }

    pub fn in_request(context: &Context) -> bool {
        context
            .get_data::<Self>()
            .is_some_and(|phase| phase.in_request.get())
    }
}
