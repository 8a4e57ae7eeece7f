//! The few OS calls the snapshot process model needs that std does not offer: `fork`,
//! `_exit`, `kill`, reaping, `poll`, CPU clocks (this process's and a copy's), `malloc_trim`,
//! and the allocator: counting for the heap limit, and giving each copy a heap of its own. With `huge_pages`, the crate's only `unsafe` code; each
//! block says why it is sound.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use talc::source::Manual;
use talc::TalcLock;

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
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time the calling thread has used (`vCpuTime()` of `fastly:compute`).
pub(crate) fn thread_cpu_time() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: plain syscall with a valid out pointer.
    let ok = unsafe { libc::clock_gettime(clock, &raw mut now) } == 0;
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
    // SAFETY: no preconditions; glibc locks each arena it trims, so any thread may call it.
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

/// Live bytes of this process now (as counted by [`CountingAllocator`]).
pub(crate) fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
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

/// Address space reserved for a copy's own heap; pages are only backed once touched. A copy
/// that fills it (only possible with the heap limit off) goes on with the system allocator.
const COPY_HEAP_RESERVE: usize = 4 << 30;
/// The first part of a copy's heap hands out memory in order and never reuses it: the
/// cheapest allocator there is, and a request rarely allocates this much in all. The rest is
/// a general allocator that reuses freed memory, so a request that makes much garbage stays
/// within its heap limit.
const COPY_BUMP_BYTES: usize = 32 << 20;

/// The general part of a copy's heap; empty in every other process.
static COPY_TALC: TalcLock<spinning_top::RawSpinlock, Manual> = TalcLock::new(Manual);
/// Bounds of a copy's heap: `START..BUMP_END` in order, `BUMP_END..END` general. All 0
/// before [`start_copy_heap`], and in every other process.
static COPY_START: AtomicUsize = AtomicUsize::new(0);
static COPY_BUMP_END: AtomicUsize = AtomicUsize::new(0);
static COPY_END: AtomicUsize = AtomicUsize::new(0);
/// The next free byte of the in-order part.
static COPY_NEXT: AtomicUsize = AtomicUsize::new(0);

/// Gives this process (a copy, just forked) a heap of its own: from now on it allocates there,
/// and never frees or reuses memory of the snapshot's heap, whose pages it shares with the
/// snapshot process until it writes to them. Reusing the snapshot's free chunks, and freeing
/// into them, cost a copy-on-write page copy each: measured on a Hono app (wrk -c2, perf stat
/// over the snapshot process tree), 760 page faults and 4.8-5.4 ms of CPU per request
/// before, 535 and 3.3-4.0 ms after. (Pre-faulting the in-order part was measured too: fewer
/// faults, more CPU.)
pub(crate) fn start_copy_heap() {
    #[cfg(target_os = "linux")]
    let no_reserve = libc::MAP_NORESERVE;
    #[cfg(not(target_os = "linux"))]
    let no_reserve = 0;
    // SAFETY: a fresh private anonymous mapping; nothing else refers to that range.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            COPY_HEAP_RESERVE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | no_reserve,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return;
    }
    let start = base as usize;
    // SAFETY: the range is mapped read-write, used by nothing else, and stays mapped until the
    // copy exits.
    let claimed = unsafe {
        COPY_TALC.lock().claim(
            base.cast::<u8>().add(COPY_BUMP_BYTES),
            COPY_HEAP_RESERVE - COPY_BUMP_BYTES,
        )
    };
    if claimed.is_none() {
        return;
    }
    COPY_NEXT.store(start, Ordering::SeqCst);
    COPY_START.store(start, Ordering::SeqCst);
    COPY_BUMP_END.store(start + COPY_BUMP_BYTES, Ordering::SeqCst);
    // Last: from here on, `in_copy` holds.
    COPY_END.store(start + COPY_HEAP_RESERVE, Ordering::SeqCst);
}

/// Whether this process is a copy with its own heap.
#[inline]
fn in_copy() -> bool {
    COPY_END.load(Ordering::Relaxed) != 0
}

/// Where a pointer came from.
#[derive(PartialEq, Eq)]
enum Owner {
    /// The in-order part of the copy's heap.
    Bump,
    /// The general part of the copy's heap.
    Talc,
    /// Anywhere else: the system allocator (in a copy: the snapshot's heap, or the system's
    /// after the copy's heap filled up).
    System,
}

#[inline]
fn owner(ptr: *mut u8) -> Owner {
    let at = ptr as usize;
    if at < COPY_START.load(Ordering::Relaxed) || at >= COPY_END.load(Ordering::Relaxed) {
        Owner::System
    } else if at < COPY_BUMP_END.load(Ordering::Relaxed) {
        Owner::Bump
    } else {
        Owner::Talc
    }
}

/// `layout` from the in-order part of the copy's heap (fresh, zeroed memory), or null when it
/// does not fit.
fn bump(layout: Layout) -> *mut u8 {
    let limit = COPY_BUMP_END.load(Ordering::Relaxed);
    let mut next = COPY_NEXT.load(Ordering::Relaxed);
    loop {
        let Some(at) = next
            .checked_add(layout.align() - 1)
            .map(|n| n & !(layout.align() - 1))
        else {
            return std::ptr::null_mut();
        };
        let Some(end) = at.checked_add(layout.size()).filter(|&end| end <= limit) else {
            return std::ptr::null_mut();
        };
        match COPY_NEXT.compare_exchange_weak(next, end, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return at as *mut u8,
            Err(now) => next = now,
        }
    }
}

/// Allocates from the copy's heap in a copy (the system's when it is full), else from the
/// system's. `zeroed`: the memory must be zeroed.
///
/// # Safety
/// As [`GlobalAlloc::alloc`].
unsafe fn uncounted_alloc(layout: Layout, zeroed: bool) -> *mut u8 {
    if in_copy() {
        let ptr = bump(layout);
        if !ptr.is_null() {
            return ptr;
        }
        // SAFETY: the caller's contract is forwarded unchanged.
        let ptr = unsafe {
            match zeroed {
                true => COPY_TALC.alloc_zeroed(layout),
                false => COPY_TALC.alloc(layout),
            }
        };
        if !ptr.is_null() {
            return ptr;
        }
    }
    // SAFETY: as above.
    unsafe {
        match zeroed {
            true => System.alloc_zeroed(layout),
            false => System.alloc(layout),
        }
    }
}

/// The system allocator, counting live bytes so that a snapshot copy can enforce Compute's
/// heap limit, and, in a copy, its own heap ([`start_copy_heap`]). The `edgeshim` binary
/// installs it as its global allocator; a copy over the limit reports it to the server and
/// ends, instead of growing until the kernel kills the machine's biggest process.
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

// SAFETY: each call goes to `System`, or in a copy to its own heap (memory only this process
// uses: an in-order part and a lock-guarded general allocator), with the caller's contract
// unchanged. A pointer is always freed or resized by the allocator it came from, told by its
// address, except memory that is never reused: the in-order part's, and in a copy the
// snapshot's. The counters are plain atomics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::grow(layout.size());
        // SAFETY: the caller's contract is forwarded unchanged.
        unsafe { uncounted_alloc(layout, false) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::grow(layout.size());
        // SAFETY: as above.
        unsafe { uncounted_alloc(layout, true) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        match owner(ptr) {
            // SAFETY: `ptr` came from the general part with this layout.
            Owner::Talc => unsafe { COPY_TALC.dealloc(ptr, layout) },
            // SAFETY: `ptr` came from `System` with this layout.
            Owner::System if !in_copy() => unsafe { System.dealloc(ptr, layout) },
            Owner::System | Owner::Bump => {}
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            Self::grow(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        let from = owner(ptr);
        match from {
            // The newest in-order block grows or shrinks where it is.
            Owner::Bump => {
                let end = ptr as usize + layout.size();
                let new_end = ptr as usize + new_size;
                if new_end <= COPY_BUMP_END.load(Ordering::Relaxed)
                    && COPY_NEXT
                        .compare_exchange(end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    return ptr;
                }
            }
            Owner::Talc => {
                // SAFETY: `ptr` came from the general part with this layout.
                let moved = unsafe { COPY_TALC.realloc(ptr, layout, new_size) };
                if !moved.is_null() {
                    return moved;
                }
            }
            // SAFETY: `ptr` came from `System` with this layout.
            Owner::System if !in_copy() => {
                return unsafe { System.realloc(ptr, layout, new_size) };
            }
            Owner::System => {}
        }
        // A new block, the old one left (in-order part, snapshot) or freed.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `new_layout` has a non-zero size (the caller's contract for `new_size`).
        let new = unsafe { uncounted_alloc(new_layout, false) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            if from == Owner::Talc {
                // SAFETY: `ptr` came from the general part with this layout.
                unsafe { COPY_TALC.dealloc(ptr, layout) }
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The copy's heap, driven directly (the test binary's global allocator is the system's,
    /// so turning this process into a "copy" affects only these calls).
    #[test]
    fn a_copy_allocates_in_its_own_heap_and_reuses_what_it_frees() {
        let allocator = CountingAllocator;
        let small = Layout::from_size_align(64, 8).unwrap();
        // SAFETY (all blocks below): layouts are non-zero; each pointer is freed once, with
        // the layout it was allocated with.
        let before = unsafe { allocator.alloc(small) };
        assert!(!before.is_null());
        start_copy_heap();
        assert!(in_copy());
        assert!(owner(before) == Owner::System);

        // In order, zeroed, and the newest block grows in place.
        let first = unsafe { allocator.alloc_zeroed(small) };
        assert!(owner(first) == Owner::Bump);
        assert!(unsafe { std::slice::from_raw_parts(first, 64) }
            .iter()
            .all(|&b| b == 0));
        let grown = unsafe { allocator.realloc(first, small, 4096) };
        assert_eq!(grown, first);

        // The snapshot's block moves into the copy's heap, its bytes with it, and is left.
        unsafe { before.write_bytes(7, 64) };
        let moved = unsafe { allocator.realloc(before, small, 128) };
        assert!(owner(moved) == Owner::Bump);
        assert_eq!(unsafe { *moved.add(63) }, 7);
        unsafe { allocator.dealloc(moved, Layout::from_size_align(128, 8).unwrap()) };

        // Past the in-order part, freed memory is reused: 100 MB of garbage in 1 MB blocks
        // lands on the same few addresses.
        let block = Layout::from_size_align(1 << 20, 16).unwrap();
        let mut general = std::collections::HashSet::new();
        for _ in 0..100 {
            let ptr = unsafe { allocator.alloc(block) };
            assert!(!ptr.is_null());
            unsafe { ptr.write_bytes(1, 1 << 20) };
            if owner(ptr) == Owner::Talc {
                general.insert(ptr as usize);
            }
            unsafe { allocator.dealloc(ptr, block) };
        }
        assert!(!general.is_empty() && general.len() <= 2, "{general:?}");
        unsafe { allocator.dealloc(grown, Layout::from_size_align(4096, 8).unwrap()) };
    }
}
