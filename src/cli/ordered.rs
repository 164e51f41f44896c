//! [`ordered_map`]: a bounded pipeline of worker threads that maps a
//! stream of items and hands the results back in input order (a reorder
//! buffer), with at most `window` items anywhere between reading and
//! writing, so memory stays bounded whatever the input size.
//!
//! ```text
//! reader thread ─▶ jobs (seq, item) ─▶ N workers ─▶ results (seq, out) ─▶ caller: reorder → write
//!       ▲                                                                     │
//!       └──────────────── one token per item written ◀────────────────────────┘
//! ```

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the caller does with the results.
pub trait Sink<U> {
    /// The next result, in input order.
    ///
    /// # Errors
    /// The result cannot be written; the pipeline stops.
    fn write(&mut self, out: U) -> Result<(), String>;
    /// No result is ready right now (the pipeline is about to wait, or has
    /// ended): a good moment to flush.
    ///
    /// # Errors
    /// Flushing failed; the pipeline stops.
    fn idle(&mut self) -> Result<(), String>;
}

/// Map every item of `input` with `work` on `threads` worker threads
/// (at least one) and give the results to `sink` in input order. At most
/// `window` items are in flight (read but not yet written); the reader
/// waits for the writer beyond that.
///
/// # Errors
/// The sink's error, or a worker panicked. On error the reader and the
/// workers are left to stop on their own (they stop at their next item,
/// or with the process).
pub fn ordered_map<T, U, I, W, S>(
    input: I,
    threads: usize,
    window: usize,
    work: W,
    sink: &mut S,
) -> Result<(), String>
where
    T: Send + 'static,
    U: Send + 'static,
    I: Iterator<Item = T> + Send + 'static,
    W: Fn(T) -> U + Send + Sync + 'static,
    S: Sink<U>,
{
    let window = window.max(1);
    let (token_tx, token_rx) = mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        token_tx.send(()).expect("the receiver is alive");
    }
    let (job_tx, job_rx) = mpsc::sync_channel::<(u64, T)>(window);
    let (result_tx, result_rx) = mpsc::channel::<(u64, Option<U>)>();
    thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            for (seq, item) in (0u64..).zip(input) {
                if token_rx.recv().is_err() || job_tx.send((seq, item)).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| format!("cannot start the reader thread: {e}"))?;
    let job_rx = Arc::new(Mutex::new(job_rx));
    let work = Arc::new(work);
    for i in 0..threads.max(1) {
        let (jobs, results, work) = (job_rx.clone(), result_tx.clone(), work.clone());
        thread::Builder::new()
            .name(format!("match-{i}"))
            .spawn(move || worker(&jobs, &results, &*work))
            .map_err(|e| format!("cannot start a worker thread: {e}"))?;
    }
    drop(result_tx);
    let mut pending: BTreeMap<u64, U> = BTreeMap::new();
    let mut next = 0u64;
    // Tokens owed to the reader, handed back half a window at a time (one
    // wake-up of the reader per batch, not per item) and always before
    // this thread waits, so the reader never waits on a token held here.
    let mut owed = 0;
    let give_back = |owed: &mut usize| {
        for _ in 0..std::mem::take(owed) {
            // The reader may have finished and gone: no one to wake.
            let _ = token_tx.send(());
        }
    };
    loop {
        let received = match result_rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => {
                give_back(&mut owed);
                sink.idle()?;
                result_rx.recv().ok()
            }
            Err(TryRecvError::Disconnected) => None,
        };
        let Some((seq, out)) = received else { break };
        let out = out.ok_or("a worker thread panicked")?;
        pending.insert(seq, out);
        while let Some(out) = pending.remove(&next) {
            sink.write(out)?;
            next += 1;
            owed += 1;
            if owed >= window.div_ceil(2) {
                give_back(&mut owed);
            }
        }
    }
    if !pending.is_empty() {
        return Err("a worker thread stopped early".into());
    }
    sink.idle()
}

/// Take jobs until the reader is done; `None` for a job that panicked.
fn worker<T, U>(
    jobs: &Mutex<Receiver<(u64, T)>>,
    results: &mpsc::Sender<(u64, Option<U>)>,
    work: &(dyn Fn(T) -> U + Sync),
) {
    loop {
        // A poisoned lock only means another worker panicked while
        // waiting; the receiver is still sound.
        let job = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((seq, item)) = job else { return };
        let out = catch_unwind(AssertUnwindSafe(|| work(item))).ok();
        let panicked = out.is_none();
        if results.send((seq, out)).is_err() || panicked {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        out: Vec<u64>,
        idles: usize,
    }

    impl Sink<u64> for Collect {
        fn write(&mut self, out: u64) -> Result<(), String> {
            self.out.push(out);
            Ok(())
        }
        fn idle(&mut self) -> Result<(), String> {
            self.idles += 1;
            Ok(())
        }
    }

    #[test]
    fn results_come_in_input_order_whatever_the_finishing_order() {
        for threads in [1, 2, 4, 8] {
            let mut sink = Collect::default();
            let work = |i: u64| {
                // Later items often finish first.
                thread::sleep(std::time::Duration::from_micros((i * 7919) % 300));
                i * 2
            };
            ordered_map(0..500u64, threads, 16, work, &mut sink).unwrap();
            assert_eq!(sink.out, (0..500).map(|i| i * 2).collect::<Vec<_>>());
            assert!(sink.idles >= 1);
        }
    }

    #[test]
    fn sink_errors_stop_the_pipeline_and_panics_are_errors() {
        struct Fail;
        impl Sink<u64> for Fail {
            fn write(&mut self, _: u64) -> Result<(), String> {
                Err("closed".into())
            }
            fn idle(&mut self) -> Result<(), String> {
                Ok(())
            }
        }
        assert_eq!(
            ordered_map(0..u64::MAX, 2, 4, |i| i, &mut Fail),
            Err("closed".into())
        );
        let mut sink = Collect::default();
        let work = |i: u64| if i == 3 { panic!("boom") } else { i };
        let got = ordered_map(0..10u64, 2, 4, work, &mut sink);
        assert_eq!(got, Err("a worker thread panicked".into()));
        assert!([0, 1, 2].starts_with(&sink.out), "{:?}", sink.out);
    }
}
