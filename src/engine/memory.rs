//! Freed memory stays resident while a model trains, and goes back to
//! the OS after.
//!
//! The program's allocator (mimalloc, see main.rs) gives freed memory back
//! to the OS after a delay (1 s by default). A full fine-tuning step frees
//! and reallocates the same few hundred megabytes of activations,
//! gradients and moments about once a second, so by default much of it is
//! faulted back in and zeroed by the kernel every step: `clear_page_erms`
//! was 16 % of a full fine-tuning step, and `skuplan bench train` ran it
//! 25-35 % faster with purging off (1.30-1.33 s a step against
//! 1.73-1.75 s, same build, same minute). While a [`HoldMemory`] lives,
//! the delay is [`TRAINING_DELAY_MS`]: as fast as never purging (0.81 s
//! a step in the same comparison, later), yet what the run frees is still
//! scheduled (mimalloc never schedules memory freed while purging is off,
//! so "off" would keep it for good). When the last holder drops, the
//! previous delay returns and a forced collection hands the training peak
//! back to the OS at once (537 MB to 41 MB in a check with 480 MB freed).
//!
//! A purge delay set in the environment (`MIMALLOC_PURGE_DELAY`, or its
//! old name `MIMALLOC_RESET_DELAY`) wins: then nothing is changed.

use std::sync::Mutex;

/// mimalloc's `mi_option_purge_delay` (v3's mimalloc.h; the Rust binding
/// names no constant for it). The test below checks it reads the
/// documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The purge delay while a model trains, in milliseconds: several steps
/// of even the slowest mode.
pub const TRAINING_DELAY_MS: i64 = 30_000;

/// (holders alive, the delay to restore)
static HOLDERS: Mutex<(usize, i64)> = Mutex::new((0, 1000));

fn user_set() -> bool {
    ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// Keeps freed memory resident while it lives (see the module's text).
pub struct HoldMemory {
    active: bool,
}

impl HoldMemory {
    pub fn new() -> HoldMemory {
        if user_set() {
            return HoldMemory { active: false };
        }
        let mut holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        if holders.0 == 0 {
            // SAFETY: mi_option_get/set read and write one option value;
            // mimalloc synchronises them itself.
            holders.1 = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) } as i64;
            unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, TRAINING_DELAY_MS as _) };
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
            // SAFETY: as above; mi_collect only frees what is free.
            unsafe {
                libmimalloc_sys::mi_option_set(PURGE_DELAY, holders.1 as _);
                libmimalloc_sys::mi_collect(true);
            }
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
    fn purging_waits_while_held_and_returns_after() {
        if user_set() {
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
            assert_eq!(delay(), TRAINING_DELAY_MS);
            {
                let _inner = HoldMemory::new();
                assert_eq!(delay(), TRAINING_DELAY_MS);
            }
            assert_eq!(delay(), TRAINING_DELAY_MS, "the outer holder still holds");
        }
        idle("after");
    }
}
