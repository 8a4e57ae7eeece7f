//! Backs the snapshot process's memory with transparent huge pages once its first copies are
//! forked, so that later copies cost less to make, to run and to end (Linux; nothing
//! elsewhere).
//!
//! A copy's cost was mostly page tables, not JavaScript (`perf record -a`, wrk c=10, on a
//! one-line app and a 1 MB one): `fork` copying one entry per 4 KiB page of the snapshot's
//! heap, the copy faulting in the program's code page by page (the kernel copies no entries
//! for file mappings at fork), and `exit` tearing both down. With the heap and the code on
//! 2 MiB pages, fork copies and exit drops one entry per 2 MiB, and the code arrives with
//! the copy. A page the copy writes is still copied 4 KiB at a time (the kernel splits the
//! huge page's mapping in the copy only).
//!
//! The code is file-backed, and this kernel class cannot put file pages on huge pages
//! (`MADV_COLLAPSE` needs `CONFIG_READ_ONLY_THP_FOR_FS`), so the program's read-only segments
//! are moved into anonymous memory first, as HHVM and Chromium do with their text: copied
//! aside, then `mremap`ped over the original addresses, where the bytes are identical.
//! (Debuggers and profilers then see anonymous memory there: `EDGESHIM_HUGE_PAGES=0` turns
//! this off.) Only where huge pages work: the move is skipped if a trial collapse fails.
//!
//! See <https://docs.kernel.org/admin-guide/mm/transhuge.html> (`MADV_COLLAPSE`).

#![allow(unsafe_code)]

/// What was moved onto huge pages, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Backed {
    /// Bytes of the program's read-only segments now on huge pages.
    pub(crate) code: usize,
    /// Bytes of anonymous memory (the heap) now on huge pages.
    pub(crate) heap: usize,
}

/// Turns huge pages off for the snapshot process when set to `0`.
pub(crate) const HUGE_PAGES_ENV: &str = "EDGESHIM_HUGE_PAGES";

const HUGE: usize = 2 << 20;

/// One line of `/proc/self/maps`.
#[derive(Debug, PartialEq, Eq)]
struct Mapping<'a> {
    start: usize,
    end: usize,
    readable: bool,
    writable: bool,
    executable: bool,
    private: bool,
    inode: u64,
    /// The path, `[heap]`-style name, or "" for anonymous memory.
    name: &'a str,
}

impl Mapping<'_> {
    /// The 2 MiB-aligned part of the mapping, if any.
    fn huge_range(&self) -> Option<(usize, usize)> {
        let start = self.start.checked_add(HUGE - 1)? & !(HUGE - 1);
        let end = self.end & !(HUGE - 1);
        (start < end).then_some((start, end))
    }

    fn is_anonymous_data(&self) -> bool {
        self.inode == 0
            && self.private
            && self.readable
            && self.writable
            && (self.name.is_empty() || self.name == "[heap]")
    }
}

fn parse_maps(text: &str) -> Vec<Mapping<'_>> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Mapping<'_>> {
    // start-end perms offset dev inode [name]; the name may contain spaces.
    let mut rest = line;
    let mut field = || {
        let trimmed = rest.trim_start();
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        let (word, tail) = trimmed.split_at(end);
        rest = tail;
        word
    };
    let (start, end) = field().split_once('-')?;
    let perms = field().as_bytes();
    let _offset = field();
    let _device = field();
    let inode = field().parse().ok()?;
    let name = rest.trim();
    if perms.len() < 4 {
        return None;
    }
    Some(Mapping {
        start: usize::from_str_radix(start, 16).ok()?,
        end: usize::from_str_radix(end, 16).ok()?,
        readable: perms[0] == b'r',
        writable: perms[1] == b'w',
        executable: perms[2] == b'x',
        private: perms[3] == b'p',
        inode,
        name,
    })
}

/// Moves the program's code and the heap onto huge pages, where the kernel offers them. Called
/// in the snapshot process after the app's top level ran, once its first copies are forked.
pub(crate) fn back_snapshot() -> Backed {
    if std::env::var(HUGE_PAGES_ENV).is_ok_and(|v| v == "0") {
        return Backed::default();
    }
    imp::back_snapshot()
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{parse_maps, Backed, Mapping, HUGE};

    /// `MADV_COLLAPSE` (Linux 6.1, `linux/mman.h`); libc exports it for glibc targets only.
    const MADV_COLLAPSE: libc::c_int = 25;

    pub(super) fn back_snapshot() -> Backed {
        if !collapse_works() {
            return Backed::default();
        }
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return Backed::default();
        };
        let mappings = parse_maps(&maps);
        // The program's own file: the mapping holding this function's code.
        let here = back_snapshot as fn() -> Backed as usize;
        let program = mappings
            .iter()
            .find(|m| m.start <= here && here < m.end && m.inode != 0)
            .map(|m| m.inode);
        let mut backed = Backed::default();
        for mapping in &mappings {
            let Some((start, end)) = mapping.huge_range() else {
                continue;
            };
            if Some(mapping.inode) == program && mapping.readable && !mapping.writable {
                if move_to_anonymous(mapping, start, end) {
                    backed.code += collapse(start, end);
                }
            } else if mapping.is_anonymous_data() {
                backed.heap += collapse(start, end);
            }
        }
        backed
    }

    /// A fresh private anonymous read-write mapping of `len` bytes, or `None`.
    fn map_anonymous(len: usize) -> Option<*mut libc::c_void> {
        // SAFETY: a new mapping at an address the kernel picks; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        (base != libc::MAP_FAILED).then_some(base)
    }

    /// Whether this kernel collapses anonymous memory into a huge page (THP built in, not
    /// set to `never`, Linux 6.1+): tried on a scratch mapping.
    pub(super) fn collapse_works() -> bool {
        let size = 2 * HUGE;
        let Some(base) = map_anonymous(size) else {
            return false;
        };
        // SAFETY: `base` is a fresh mapping of `size` bytes, used and unmapped here only.
        unsafe {
            let aligned = (base as usize + HUGE - 1) & !(HUGE - 1);
            (aligned as *mut u8).write(1);
            let works = libc::madvise(aligned as *mut libc::c_void, HUGE, MADV_COLLAPSE) == 0;
            libc::munmap(base, size);
            works
        }
    }

    /// Replaces `start..end` of a read-only mapping of the program with an anonymous copy of
    /// the same bytes and protection. False (and nothing changed) if a step fails.
    fn move_to_anonymous(mapping: &Mapping<'_>, start: usize, end: usize) -> bool {
        let len = end - start;
        let protection = if mapping.executable {
            libc::PROT_READ | libc::PROT_EXEC
        } else {
            libc::PROT_READ
        };
        let Some(aside) = map_anonymous(len) else {
            return false;
        };
        // SAFETY: `aside` is a fresh anonymous mapping of `len` bytes; `start..end` is
        // mapped readable (from /proc/self/maps) and holds this program's read-only
        // segments, which nothing writes, so the copy is exact. `mremap` with MREMAP_FIXED
        // swaps the pages under the kernel's lock: before and after, every address holds
        // the same bytes with the same protection, so code running from there (this
        // function's caller included, on any thread) goes on unchanged.
        unsafe {
            std::ptr::copy_nonoverlapping(start as *const u8, aside.cast::<u8>(), len);
            if libc::mprotect(aside, len, protection) != 0 {
                libc::munmap(aside, len);
                return false;
            }
            let moved = libc::mremap(
                aside,
                len,
                len,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                start as *mut libc::c_void,
            );
            if moved == libc::MAP_FAILED {
                libc::munmap(aside, len);
                return false;
            }
        }
        true
    }

    /// Collapses each 2 MiB piece of `start..end` into a huge page; returns the bytes that
    /// were. (Pieces with no page at all, such as the holes `malloc_trim` leaves, fail.)
    fn collapse(start: usize, end: usize) -> usize {
        (start..end)
            .step_by(HUGE)
            // SAFETY: advice only; the range is mapped and stays so, its contents unchanged.
            .filter(|&piece| unsafe {
                libc::madvise(piece as *mut libc::c_void, HUGE, MADV_COLLAPSE) == 0
            })
            .count()
            * HUGE
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Backed;

    pub(super) fn back_snapshot() -> Backed {
        Backed::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_parse_with_names_that_have_spaces() {
        let text = "\
55f379315000-55f379be9000 r--p 00000000 fe:00 9595788                    /opt/edge shim/edgeshim
55f379be9000-55f37ae1d000 r-xp 008d3000 fe:00 9595788                    /opt/edge shim/edgeshim (deleted)
55f3a1908000-55f3a3a37000 rw-p 00000000 00:00 0                          [heap]
7f3e75290000-7f3e75491000 rw-p 00000000 00:00 0 
7ffd1000-7ffd2000 rw-s 00000000 00:01 77                         /dev/shm/x
";
        let maps = parse_maps(text);
        assert_eq!(maps.len(), 5);
        assert_eq!(
            maps[1],
            Mapping {
                start: 0x55f3_79be_9000,
                end: 0x55f3_7ae1_d000,
                readable: true,
                writable: false,
                executable: true,
                private: true,
                inode: 9_595_788,
                name: "/opt/edge shim/edgeshim (deleted)",
            }
        );
        assert!(maps[2].is_anonymous_data());
        assert!(maps[3].is_anonymous_data());
        assert_eq!(maps[3].name, "");
        assert!(!maps[0].is_anonymous_data());
        assert!(
            !maps[4].is_anonymous_data(),
            "shared memory is not the heap"
        );
        assert!(parse_line("garbage").is_none());
    }

    #[test]
    fn only_whole_aligned_huge_pages_are_used() {
        let mapping = |start, end| Mapping {
            start,
            end,
            readable: true,
            writable: true,
            executable: false,
            private: true,
            inode: 0,
            name: "",
        };
        assert_eq!(
            mapping(0x1_0000, 0x60_1000).huge_range(),
            Some((0x20_0000, 0x60_0000))
        );
        assert_eq!(
            mapping(0x20_0000, 0x40_0000).huge_range(),
            Some((0x20_0000, 0x40_0000))
        );
        assert_eq!(mapping(0x1000, 0x3f_f000).huge_range(), None);
        assert_eq!(mapping(usize::MAX - 0x1000, usize::MAX).huge_range(), None);
    }

    /// Moves this test binary's code: everything after it runs from the anonymous copy.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_moved_program_still_runs() {
        let works = imp::collapse_works();
        let backed = back_snapshot();
        let words: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
        assert_eq!(words.concat().len(), 3890);
        if works && std::env::var(HUGE_PAGES_ENV).map_or(true, |v| v != "0") {
            assert!(backed.code >= HUGE, "{backed:?}");
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
            let here = the_moved_program_still_runs as fn() as usize;
            let mine = parse_maps(&maps)
                .into_iter()
                .find(|m| m.start <= here && here < m.end);
            let mine = mine.expect("this code is mapped");
            // This code now runs from anonymous memory, unless it lies in the unaligned
            // head or tail of the segment (left as it was).
            if mine.inode == 0 {
                assert!(mine.executable && !mine.writable, "{mine:?}");
            }
        } else {
            assert_eq!(backed, Backed::default());
        }
    }
}
