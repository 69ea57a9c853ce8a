//! Work spread over the cores, results in input order.
//!
//! Files are independent until the cross-object index, and once the index is
//! built the workloads are independent again: both stages hand their items
//! to [`map_in_order`]. The order of the results is the order of the items,
//! so a run's output is the same bytes whatever the number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads the next stages use; 0 until set, meaning one per core.
static THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while this thread works for a [`map_in_order`]: work it shares
    /// out in turn runs here, so that nested stages (the documents of one
    /// file, the files of a run) never start threads per thread.
    static SHARING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sets the number of threads (`--threads`); 0 means one per core.
pub fn set_threads(threads: usize) {
    THREADS.store(threads, Ordering::Relaxed);
}

/// The number of threads a stage uses.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            // Asked once: it reads the cgroup's CPU quota from /sys and /proc.
            static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
            *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        }
        n => n,
    }
}

/// How much work one item is, against starting a thread (tens of
/// microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// A file or a part of a stream: worth a thread from two on.
    Coarse,
    /// One document or object: worth threads only from 64 on, so that the
    /// few objects of one manifest (a pre-commit run) stay on one thread.
    Fine,
}

impl Grain {
    fn fewest_shared(self) -> usize {
        match self {
            Grain::Coarse => 2,
            Grain::Fine => 64,
        }
    }
}

/// `items.iter().map(work).collect()`, on up to [`threads`] threads.
///
/// Items are taken one at a time from a shared counter, so a large file or
/// workload does not leave the other threads idle behind it. With one
/// thread, or fewer items than the grain makes worth sharing, the work runs
/// on the calling thread: a one-file lint starts no thread. Called from
/// within another `map_in_order`'s work, it runs there too.
pub fn map_in_order<T, R, F>(items: &[T], grain: Grain, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    // Cheapest first: counting the cores is not free the first time.
    if items.len() < grain.fewest_shared() || SHARING.get() || threads() < 2 {
        return items.iter().map(work).collect();
    }
    let threads = threads().min(items.len());
    let next = AtomicUsize::new(0);
    let take = || {
        let sharing = SHARING.replace(true);
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(at) else {
                SHARING.set(sharing);
                return done;
            };
            done.push((at, work(item)));
        }
    };
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(take)).collect();
        let mut place = |done: Vec<(usize, R)>| {
            for (at, result) in done {
                slots[at] = Some(result);
            }
        };
        place(take());
        for helper in helpers {
            match helper.join() {
                Ok(done) => place(done),
                // A panic in a worker is a bug; surface it as the caller's.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items_on_any_number_of_threads() {
        let items: Vec<u64> = (0..1_000).collect();
        let expected: Vec<u64> = items.iter().map(|n| n * n).collect();
        for threads in [1, 2, 7] {
            set_threads(threads);
            // Uneven work, so that threads finish out of order.
            let squares = map_in_order(&items, Grain::Fine, |&n| {
                if n % 97 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                n * n
            });
            assert_eq!(squares, expected, "{threads} threads");
        }
        set_threads(0);
    }

    #[test]
    fn nested_work_runs_on_the_thread_that_took_it() {
        set_threads(4);
        let outer: Vec<usize> = (0..8).collect();
        let threads_seen = map_in_order(&outer, Grain::Coarse, |_| {
            let me = std::thread::current().id();
            let inner: Vec<usize> = (0..8).collect();
            map_in_order(&inner, Grain::Coarse, |_| std::thread::current().id() == me)
        });
        assert!(threads_seen.iter().flatten().all(|&same| same));
        set_threads(0);
    }
}
