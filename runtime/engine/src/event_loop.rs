//! The event loop of one JS instance: a Boa [`JobExecutor`] that parks on tokio while idle.
//!
//! Boa's default `SimpleJobExecutor` busy-spins while it waits and its blocking `run_jobs()`
//! deadlocks inside a tokio runtime, so every context gets this executor instead. It keeps
//! the HTML event-loop order that apps rely on: all microtasks (promise jobs) drain before a
//! timer or a host completion runs.
//!
//! Host work (a store call, later a network read) is started as a `'static` future that owns
//! only plain Rust data; when it completes it yields a closure that settles the JS side. The
//! future never borrows the context, so it can await tasks on other threads.
//!
//! See <https://html.spec.whatwg.org/multipage/webappapis.html#event-loop-processing-model>.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use boa_engine::job::{
    GenericJob, IntervalJob, Job, JobExecutor, NativeAsyncJob, PromiseJob, TimeoutJob,
};
use boa_engine::{Context, JsResult};
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::time::Instant;

/// The shortest period of a repeating timer.
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_millis(4);

/// What a finished host operation does to the JS side (resolve or reject a promise).
pub type HostCompletion = Box<dyn FnOnce(&mut Context) -> JsResult<()>>;

/// Settles the promise of `resolvers` with `outcome`: fulfilled with the value, or rejected
/// with the error's JS value.
pub fn settle(
    resolvers: &boa_engine::builtins::promise::ResolvingFunctions,
    outcome: JsResult<boa_engine::JsValue>,
    context: &mut Context,
) -> JsResult<()> {
    let undefined = boa_engine::JsValue::undefined();
    match outcome {
        Ok(value) => resolvers.resolve.call(&undefined, &[value], context),
        Err(error) => {
            let reason = error.into_opaque(context)?;
            resolvers.reject.call(&undefined, &[reason], context)
        }
    }
    .map(drop)
}

type HostOp = Pin<Box<dyn Future<Output = HostCompletion>>>;

enum ClockJob {
    Timeout(TimeoutJob),
    Interval(IntervalJob),
}

impl ClockJob {
    fn cancelled(&self) -> bool {
        match self {
            Self::Timeout(t) => t.cancelled(),
            Self::Interval(i) => i.cancelled(),
        }
    }
}

/// Why [`EventLoop::run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The caller's condition became true.
    Done,
    /// Nothing is queued or in flight: no job, timer or host operation can wake the loop, so
    /// a still-pending promise can never settle.
    Idle,
}

/// The job queues of one context. Single-threaded: it lives and runs on the instance's thread.
#[derive(Default)]
pub struct EventLoop {
    promise_jobs: RefCell<VecDeque<PromiseJob>>,
    generic_jobs: RefCell<VecDeque<GenericJob>>,
    async_jobs: RefCell<VecDeque<NativeAsyncJob>>,
    timers: RefCell<BTreeMap<(Instant, u64), ClockJob>>,
    timer_seq: Cell<u64>,
    /// Host operations started since the loop last ran; moved into the running set.
    new_host_ops: RefCell<Vec<HostOp>>,
    /// Host operations still in flight between two runs of the loop.
    parked_host_ops: RefCell<Option<FuturesUnordered<HostOp>>>,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("promise_jobs", &self.promise_jobs.borrow().len())
            .field("timers", &self.timers.borrow().len())
            .finish_non_exhaustive()
    }
}

impl EventLoop {
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// Starts host work. `op` must not borrow the context; its output settles the JS side.
    pub fn spawn_host_op(&self, op: impl Future<Output = HostCompletion> + 'static) {
        self.new_host_ops.borrow_mut().push(Box::pin(op));
    }

    fn add_timer(&self, due: Instant, job: ClockJob) {
        let seq = self.timer_seq.get();
        self.timer_seq.set(seq.wrapping_add(1));
        self.timers.borrow_mut().insert((due, seq), job);
    }

    fn has_queued_jobs(&self) -> bool {
        !self.promise_jobs.borrow().is_empty()
            || !self.generic_jobs.borrow().is_empty()
            || !self.async_jobs.borrow().is_empty()
    }

    /// Runs the queued engine async jobs (module loading) to completion now, on this thread,
    /// outside the loop: for `require()` of an ES module, which must load it synchronously.
    /// The app's loader never waits, so each job completes at its first poll; returns
    /// `false` if one did not (it is then dropped).
    pub fn finish_async_jobs_now(&self, context: &mut Context) -> bool {
        let context = RefCell::new(context);
        let waker = futures::task::noop_waker();
        let mut poll_context = std::task::Context::from_waker(&waker);
        loop {
            let jobs: Vec<NativeAsyncJob> = self.async_jobs.borrow_mut().drain(..).collect();
            if jobs.is_empty() {
                return true;
            }
            for job in jobs {
                let mut running = std::pin::pin!(job.call(&context));
                match running.as_mut().poll(&mut poll_context) {
                    std::task::Poll::Ready(result) => report_job_error(result.map(drop)),
                    std::task::Poll::Pending => return false,
                }
            }
        }
    }

    /// Runs every queued promise job, then generic jobs, until both queues are empty.
    fn drain_jobs(&self, context: &RefCell<&mut Context>) {
        loop {
            let next = self.promise_jobs.borrow_mut().pop_front();
            if let Some(job) = next {
                report_job_error(job.call(&mut context.borrow_mut()));
                #[cfg(unix)]
                crate::snapshot::collect_under_pressure();
                continue;
            }
            let next = self.generic_jobs.borrow_mut().pop_front();
            match next {
                Some(job) => report_job_error(job.call(&mut context.borrow_mut())),
                None => break,
            }
        }
        context.borrow_mut().clear_kept_objects();
    }

    /// Runs every timer that is due; returns whether any ran.
    fn run_due_timers(&self, context: &RefCell<&mut Context>) -> bool {
        let now = Instant::now();
        let mut ran = false;
        loop {
            let due = {
                let mut timers = self.timers.borrow_mut();
                match timers.first_key_value() {
                    Some((&(at, _), _)) if at <= now => timers.pop_first(),
                    _ => None,
                }
            };
            let Some((_, job)) = due else { break };
            if job.cancelled() {
                continue;
            }
            ran = true;
            match job {
                ClockJob::Timeout(t) => report_job_error(t.call(&mut context.borrow_mut())),
                ClockJob::Interval(i) => {
                    report_job_error(i.call(&mut context.borrow_mut()));
                    // Repeating timers are clamped to 4 ms, as HTML clamps nested timers.
                    let every = std::time::Duration::from(i.interval()).max(MIN_INTERVAL);
                    let next = Instant::now() + every;
                    self.add_timer(next, ClockJob::Interval(i));
                }
            }
            // Microtasks queued by this timer run before the next timer, as in browsers.
            self.drain_jobs(context);
        }
        ran
    }

    fn next_timer(&self) -> Option<Instant> {
        let mut timers = self.timers.borrow_mut();
        // Cancelled timers must not keep the loop alive.
        timers.retain(|_, job| !job.cancelled());
        timers.first_key_value().map(|(&(at, _), _)| at)
    }

    /// Drives the loop until `done` returns true (checked whenever the microtask queue is
    /// empty) or until nothing can make progress any more.
    pub async fn run_until(
        self: &Rc<Self>,
        context: &mut Context,
        mut done: impl FnMut(&mut Context) -> bool,
    ) -> RunOutcome {
        let context = RefCell::new(context);
        let mut host_ops = self.parked_host_ops.borrow_mut().take().unwrap_or_default();
        let mut async_jobs = FuturesUnordered::new();
        let outcome = loop {
            self.drain_jobs(&context);
            if done(&mut context.borrow_mut()) {
                break RunOutcome::Done;
            }
            let started: Vec<NativeAsyncJob> = self.async_jobs.borrow_mut().drain(..).collect();
            for job in started {
                async_jobs.push(job.call(&context));
            }
            host_ops.extend(self.new_host_ops.borrow_mut().drain(..));
            if self.run_due_timers(&context) {
                // Give other instances on this thread a turn: a zero-delay timer chain must
                // not starve them.
                tokio::task::yield_now().await;
                continue;
            }
            let next_timer = self.next_timer();
            if async_jobs.is_empty() && host_ops.is_empty() && next_timer.is_none() {
                if self.has_queued_jobs() || !self.new_host_ops.borrow().is_empty() {
                    continue;
                }
                break RunOutcome::Idle;
            }
            let sleep = async {
                match next_timer {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                Some(result) = async_jobs.next(), if !async_jobs.is_empty() => {
                    report_job_error(result.map(|_| ()));
                }
                Some(completion) = host_ops.next(), if !host_ops.is_empty() => {
                    report_job_error(completion(&mut context.borrow_mut()));
                }
                () = sleep => {}
            }
        };
        if !async_jobs.is_empty() {
            // Boa's async jobs borrow the context, so they cannot outlive this call. The engine
            // itself starts none that span a response; only module loading uses them.
            tracing::debug!(
                count = async_jobs.len(),
                "dropping unfinished engine async jobs"
            );
        }
        drop(async_jobs);
        host_ops.extend(self.new_host_ops.borrow_mut().drain(..));
        *self.parked_host_ops.borrow_mut() = Some(host_ops);
        outcome
    }
}

fn report_job_error(result: JsResult<impl Sized>) {
    if let Err(err) = result {
        tracing::error!(target: "edgeshim::js", "uncaught error in a job: {err}");
    }
}

impl JobExecutor for EventLoop {
    fn enqueue_job(self: Rc<Self>, job: Job, _context: &mut Context) {
        match job {
            Job::PromiseJob(p) => self.promise_jobs.borrow_mut().push_back(p),
            Job::AsyncJob(a) => self.async_jobs.borrow_mut().push_back(a),
            Job::TimeoutJob(t) => {
                let due = Instant::now() + std::time::Duration::from(t.timeout());
                self.add_timer(due, ClockJob::Timeout(t));
            }
            Job::IntervalJob(i) => {
                let due =
                    Instant::now() + std::time::Duration::from(i.interval()).max(MIN_INTERVAL);
                self.add_timer(due, ClockJob::Interval(i));
            }
            Job::GenericJob(g) => self.generic_jobs.borrow_mut().push_back(g),
            // Cleanup callbacks are optional in the spec; an instance is short-lived, so they
            // are dropped rather than allowed to keep it alive.
            Job::FinalizationRegistryCleanupJob(_) => {}
            _ => tracing::debug!("ignoring a job kind this executor does not know"),
        }
    }

    fn run_jobs(self: Rc<Self>, context: &mut Context) -> JsResult<()> {
        // Synchronous draining only: never blocks, so it is safe inside tokio.
        self.drain_jobs(&RefCell::new(context));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use boa_engine::builtins::promise::PromiseState;
    use boa_engine::{js_string, JsValue, Source};

    fn context(ev: &Rc<EventLoop>) -> Context {
        let mut ctx = boa_engine::context::ContextBuilder::new()
            .job_executor(ev.clone())
            .build()
            .unwrap();
        boa_runtime::register(crate::web::console::extension(), None, &mut ctx).unwrap();
        ctx
    }

    #[tokio::test(flavor = "current_thread")]
    async fn microtasks_run_before_timers_and_loop_parks_on_timers() {
        let ev = EventLoop::new();
        let mut ctx = context(&ev);
        // Before the timer is set: it is due 5 ms after it was set, at the earliest.
        let start = std::time::Instant::now();
        ctx.eval(Source::from_bytes(
            "globalThis.order = []; setTimeout(() => order.push('timer'), 5); \
             Promise.resolve().then(() => order.push('micro'));",
        ))
        .unwrap();
        let outcome = ev.run_until(&mut ctx, |_| false).await;
        assert_eq!(outcome, RunOutcome::Idle);
        assert!(start.elapsed() >= std::time::Duration::from_millis(5));
        let order = ctx.eval(Source::from_bytes("order.join(',')")).unwrap();
        assert_eq!(order, JsValue::from(js_string!("micro,timer")));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn host_op_settles_a_promise() {
        let ev = EventLoop::new();
        let mut ctx = context(&ev);
        let (promise, resolvers) = boa_engine::object::builtins::JsPromise::new_pending(&mut ctx);
        ev.spawn_host_op(async move {
            let value = tokio::task::spawn_blocking(|| 41 + 1).await.unwrap();
            Box::new(move |ctx: &mut Context| {
                resolvers
                    .resolve
                    .call(&JsValue::undefined(), &[value.into()], ctx)?;
                Ok(())
            }) as HostCompletion
        });
        let p = promise.clone();
        let outcome = ev
            .run_until(&mut ctx, move |_| {
                !matches!(p.state(), PromiseState::Pending)
            })
            .await;
        assert_eq!(outcome, RunOutcome::Done);
        assert_eq!(promise.state(), PromiseState::Fulfilled(42.into()));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn cleared_timer_does_not_keep_the_loop_alive() {
        let ev = EventLoop::new();
        let mut ctx = context(&ev);
        ctx.eval(Source::from_bytes(
            "clearTimeout(setTimeout(() => {}, 60000));",
        ))
        .unwrap();
        let start = std::time::Instant::now();
        assert_eq!(ev.run_until(&mut ctx, |_| false).await, RunOutcome::Idle);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
