//! Compute's per-request limits and the errors that name them.
//!
//! Reference: <https://docs.fastly.com/products/compute-resource-limits> (50 ms of CPU by
//! default, 2 minutes of wall-clock time, 128 MB of heap, 1 MB of stack). CPU, wall clock and
//! heap are enforced on the snapshot copy that runs the request (the default mode), where a
//! request over a limit can be stopped without touching any other; the stack limit is Boa's
//! recursion limit, in every mode.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Compute's default CPU time per request.
pub const CPU_LIMIT: Duration = Duration::from_millis(50);
/// Compute's wall-clock limit per request.
pub const WALL_LIMIT: Duration = Duration::from_secs(120);
/// Compute's heap limit.
pub const HEAP_LIMIT: usize = 128 * 1024 * 1024;
/// How much more heap than Compute's limit a copy may use: Boa keeps most strings in UTF-16
/// and its objects are larger than SpiderMonkey's, so an app that fits in 128 MB on Compute
/// (a 30 MiB KV value, say) needs about twice that here. Over this, the copy is stopped.
pub const HEAP_HEADROOM: usize = 2;
/// Nested JS calls allowed: Boa's stand-in for SpiderMonkey's 1 MB native stack, which
/// allows roughly this depth for ordinary functions.
pub const RECURSION_LIMIT: usize = 10_000;
/// Values on Boa's operand stack: generous for `RECURSION_LIMIT` frames.
pub(crate) const VALUE_STACK_LIMIT: usize = 1024 * 1024;

/// The limits a request runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// CPU time per request (`--cpu-limit MS`); `None`: unlimited (`--cpu-limit 0`).
    pub cpu: Option<Duration>,
    /// Wall-clock time per request, `waitUntil` work included.
    pub wall: Duration,
    /// Heap of the whole instance, the snapshot's share included.
    pub heap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cpu: Some(CPU_LIMIT),
            wall: WALL_LIMIT,
            heap: HEAP_LIMIT,
        }
    }
}

/// The limit a request went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Limit {
    #[error(
        "the request used more than its {} ms of CPU time (Compute's limit; change it with \
         --cpu-limit MS, 0 for none)",
        .0.as_millis()
    )]
    Cpu(Duration),
    #[error(
        "the request was still running after {} s of wall-clock time (Compute's limit)",
        .0.as_secs()
    )]
    Wall(Duration),
    #[error(
        "the app used more than {} MB of heap memory (Compute's limit is {} MB; edgeshim \
         allows {HEAP_HEADROOM} times that, as Boa's values take more room than \
         SpiderMonkey's)",
        .0 * HEAP_HEADROOM / (1024 * 1024),
        .0 / (1024 * 1024)
    )]
    Heap(usize),
    #[error(
        "too much recursion: more than {0} nested calls (Compute's stack is 1 MB); \
         JavaScript cannot catch this one in edgeshim yet"
    )]
    Stack(usize),
    #[error(
        "the request was stopped after {} ms, as if its instance had died (killAfter, \
         asked by the test)",
        .0.as_millis()
    )]
    Killed(Duration),
}
