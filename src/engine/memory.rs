//! Freed memory stays resident while a model trains.
//!
//! The program's allocator (mimalloc, see main.rs) gives freed memory back
//! to the OS after a delay (1 s by default). A full fine-tuning step frees
//! and reallocates the same few hundred megabytes of activations,
//! gradients and moments about once a second, so by default much of it is
//! faulted back in and zeroed by the kernel every step: `clear_page_erms`
//! was 16 % of a full fine-tuning step, and `skuplan bench train` ran it
//! 25-35 % faster with purging off (1.30-1.33 s a step against
//! 1.73-1.75 s, same build, same minute). While a [`HoldMemory`]
//! lives, purging is off; when the last one drops, the previous setting
//! returns, so an idle workstation does not keep its training peak
//! forever (memory freed meanwhile is reused first).
//!
//! A `MIMALLOC_PURGE_DELAY` set in the environment wins: then nothing is
//! changed.

use std::sync::Mutex;

/// mimalloc's `mi_option_purge_delay` (v3's mimalloc.h; the Rust binding
/// names no constant for it). The test below checks it reads the
/// documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// (holders alive, the delay to restore)
static HOLDERS: Mutex<(usize, i64)> = Mutex::new((0, 1000));

/// Keeps freed memory resident while it lives (see the module's text).
pub struct HoldMemory {
    active: bool,
}

impl HoldMemory {
    pub fn new() -> HoldMemory {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return HoldMemory { active: false };
        }
        let mut holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        if holders.0 == 0 {
            // SAFETY: mi_option_get/set read and write one option value;
            // mimalloc synchronises them itself.
            holders.1 = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) } as i64;
            unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
        }
        holders.0 += 1;
        HoldMemory { active: true }
    }
}

impl Default for HoldMemory {
    fn default() -> Self {
        HoldMemory::new()
    }
}

impl Drop for HoldMemory {
    fn drop(&mut self) {
        if !self.active {
            return;
        }
        let mut holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        holders.0 = holders.0.saturating_sub(1);
        if holders.0 == 0 {
            // SAFETY: as above.
            unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, holders.1 as _) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delay() -> i64 {
        // SAFETY: reads one option value.
        unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) as i64 }
    }

    #[test]
    fn purging_is_off_while_held_and_back_after() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // mimalloc v3 documents a default purge delay of 1000 ms: reading it
        // (when no other test is training) checks that the option index
        // is the purge delay.
        let idle = |what: &str| {
            let holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
            if holders.0 == 0 {
                assert_eq!(delay(), 1000, "{what}");
            }
        };
        idle("before");
        {
            let _outer = HoldMemory::new();
            assert_eq!(delay(), -1);
            {
                let _inner = HoldMemory::new();
                assert_eq!(delay(), -1);
            }
            assert_eq!(delay(), -1, "the outer holder still holds");
        }
        idle("after");
    }
}
