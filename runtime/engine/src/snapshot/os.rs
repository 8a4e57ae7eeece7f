//! The few OS calls the snapshot process model needs that std does not offer: `fork`,
//! `_exit`, `kill`, reaping, `poll`, CPU clocks (this process's and a copy's), `malloc_trim`,
//! and a counting allocator for the heap limit. This is the crate's only `unsafe` code; each block says why it is sound.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What `fork` returned.
pub(crate) enum Forked {
    Parent,
    Child,
}

/// Forks this (single-threaded) process.
pub(crate) fn fork() -> std::io::Result<Forked> {
    // SAFETY: the snapshot process calls this from its only thread (it was started by exec
    // and runs no runtime threads), so the child inherits no lock held by a vanished thread.
    match unsafe { libc::fork() } {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        _ => Ok(Forked::Parent),
    }
}

/// Ends this process at once, without running destructors or flushing stdio: a snapshot
/// copy has nothing worth tearing down, and its parent's buffers are not its own.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is always safe to call; it does not return.
    unsafe { libc::_exit(code) }
}

/// Makes this process deaf to Ctrl-C and SIGTERM sent to its whole process group (a terminal,
/// `timeout`, a supervisor): the server stops the snapshot process and its copies itself,
/// after open requests finish, and a snapshot process that died first would be restarted
/// and logged as a crash.
pub(crate) fn ignore_stop_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: SIG_IGN is a valid disposition for these signals; no handler code runs.
        unsafe {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
}

/// Sends SIGKILL to `pid`; a process already gone is not an error.
pub(crate) fn kill(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 0 {
        return;
    }
    // SAFETY: plain syscall on a positive pid (never 0 or -1, which would mean groups).
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Whether process `pid` exists.
pub(crate) fn is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let sent = unsafe { libc::kill(pid, 0) } == 0;
    sent || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Reaps every child that has ended, without waiting (their CPU time then counts in this
/// process's `cutime`, where tools that measure a process tree find it).
pub(crate) fn reap_children() {
    loop {
        let mut status = 0;
        // SAFETY: plain syscall; `status` is a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) };
        if pid <= 0 {
            return;
        }
    }
}

/// Points stdin and stdout at /dev/null: a copy must not read the snapshot process's control
/// pipe or write into its status pipe.
pub(crate) fn detach_stdio() {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    use std::os::fd::AsRawFd;
    // SAFETY: dup2 onto the standard descriptors, from a descriptor we own.
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        libc::dup2(null.as_raw_fd(), 1);
    }
}

/// CPU time this process has used, all threads.
pub(crate) fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: plain syscall with a valid out pointer.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &raw mut now) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// Waits until `socket` can take more bytes; false when it never will (closed, error).
pub(crate) fn wait_writable(socket: &impl std::os::fd::AsRawFd) -> bool {
    let mut poll = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, for the length given.
        let ready = unsafe { libc::poll(&raw mut poll, 1, -1) };
        if ready > 0 {
            return poll.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) == 0;
        }
        if ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

/// CPU time (user and system) process `pid` has used; `None` if it is gone or unreadable.
#[cfg(target_os = "linux")]
pub(crate) fn cpu_time_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    (per_second > 0).then(|| Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// CPU time (user and system) process `pid` has used; `None` if it is gone or unreadable.
#[cfg(target_os = "macos")]
pub(crate) fn cpu_time_of(pid: u32) -> Option<Duration> {
    let pid = libc::c_int::try_from(pid).ok()?;
    let mut info = std::mem::MaybeUninit::<libc::rusage_info_v2>::zeroed();
    // SAFETY: the buffer is a rusage_info_v2, the flavor asked for.
    let ok =
        unsafe { libc::proc_pid_rusage(pid, libc::RUSAGE_INFO_V2, info.as_mut_ptr().cast()) } == 0;
    if !ok {
        return None;
    }
    // SAFETY: filled by the successful call above.
    let info = unsafe { info.assume_init() };
    // In Mach absolute time units: nanoseconds scaled by the timebase.
    let mut timebase = libc::mach_timebase_info { numer: 0, denom: 0 };
    // SAFETY: valid out pointer.
    unsafe { libc::mach_timebase_info(&raw mut timebase) };
    let ticks = u128::from(info.ri_user_time + info.ri_system_time);
    let nanos = ticks * u128::from(timebase.numer) / u128::from(timebase.denom.max(1));
    Some(Duration::from_nanos(
        u64::try_from(nanos).unwrap_or(u64::MAX),
    ))
}

/// CPU time of another process: not known on this platform, so no CPU limit there.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub(crate) fn cpu_time_of(_pid: u32) -> Option<Duration> {
    None
}

/// Returns the allocator's free memory to the OS (glibc's `malloc_trim`; nothing elsewhere).
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: no preconditions; called while no other thread exists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Live heap bytes of this process, as counted by [`CountingAllocator`].
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The heap limit in force; 0: none.
static HEAP_LIMIT: AtomicUsize = AtomicUsize::new(0);
/// Called once when an allocation would go over [`HEAP_LIMIT`]; it must not allocate.
static OVER_LIMIT: std::sync::OnceLock<fn() -> !> = std::sync::OnceLock::new();

/// Live bytes right after the last collection asked for by [`under_pressure`].
static AFTER_COLLECTION: AtomicUsize = AtomicUsize::new(0);

/// Whether the heap is over half its limit and has grown by an eighth of it since the last
/// collection this asked for: time to collect garbage (a copy otherwise rarely collects,
/// and a request that makes much short-lived garbage would hit the limit with it).
pub(crate) fn under_pressure() -> bool {
    let limit = HEAP_LIMIT.load(Ordering::Relaxed);
    let live = LIVE.load(Ordering::Relaxed);
    limit != 0 && live > limit / 2 && live > AFTER_COLLECTION.load(Ordering::Relaxed) + limit / 8
}

/// Records the heap after a collection [`under_pressure`] asked for.
pub(crate) fn collected() {
    AFTER_COLLECTION.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Sets the heap limit of this process and what happens past it (`on_over` must not
/// allocate and must not return).
pub(crate) fn limit_heap(bytes: usize, on_over: fn() -> !) {
    let _ = OVER_LIMIT.set(on_over);
    HEAP_LIMIT.store(bytes, Ordering::SeqCst);
}

/// The system allocator, counting live bytes so that a snapshot copy can enforce Compute's
/// heap limit. The `edgeshim` binary installs it as its global allocator; a copy over the
/// limit reports it to the server and ends, instead of growing until the kernel kills the
/// machine's biggest process.
#[derive(Debug, Default)]
pub struct CountingAllocator;

impl CountingAllocator {
    #[inline]
    fn grow(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        let limit = HEAP_LIMIT.load(Ordering::Relaxed);
        if limit != 0 && live > limit {
            // Only the first thread over the limit reports; it never returns.
            if HEAP_LIMIT.swap(0, Ordering::SeqCst) != 0 {
                if let Some(on_over) = OVER_LIMIT.get() {
                    on_over();
                }
            }
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::grow(layout.size());
        // SAFETY: the caller's contract is forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::grow(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            Self::grow(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
