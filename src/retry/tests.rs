use super::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

#[test]
fn delays_grow_are_jittered_and_honour_retry_after() {
    let p = RetryPolicy::default();
    for attempt in 1..=10 {
        let d = p.delay(attempt, None);
        let cap = p.initial.saturating_mul(1 << (attempt - 1)).min(p.max);
        assert!(d <= cap && d >= cap / 2, "attempt {attempt}: {d:?}");
    }
    for _ in 0..100 {
        let d = p.delay(1, Some(Duration::from_secs(7)));
        assert!(
            d >= Duration::from_secs(7) && d <= Duration::from_millis(7750),
            "{d:?}"
        );
    }
}

/// One scripted answer: `None` hangs forever.
type Answer = Option<Result<u32, Failure<&'static str>>>;
/// What [`retry`] returned.
type Outcome = Result<u32, RetryError<&'static str>>;

/// Run `retry` over a script of answers; returns the outcome and the calls.
async fn run(policy: RetryPolicy, answers: Vec<Answer>, stopping: &Stopping) -> (Outcome, u32) {
    let script = Mutex::new(answers);
    let calls = AtomicU32::new(0);
    let out = retry(&policy, stopping, "test", |_| {
        calls.fetch_add(1, Ordering::SeqCst);
        let next = script.lock().unwrap().remove(0);
        async move {
            match next {
                Some(r) => r,
                None => std::future::pending().await,
            }
        }
    })
    .await;
    (out, calls.load(Ordering::SeqCst))
}

#[tokio::test(start_paused = true)]
async fn outcomes_and_call_counts() {
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let t = || Some(Err(Failure::transient("451")));
    let wait = |s| {
        Some(Err(Failure::Transient {
            error: "429",
            retry_after: Some(Duration::from_secs(s)),
        }))
    };
    let cases: Vec<(Vec<Answer>, Outcome, u32)> = vec![
        (vec![Some(Ok(7))], Ok(7), 1),
        (vec![t(), t(), Some(Ok(1))], Ok(1), 3),
        (
            vec![t(), t(), t()],
            Err(RetryError::GaveUp {
                error: "451",
                attempts: 3,
            }),
            3,
        ),
        (
            vec![Some(Err(Failure::Permanent("550")))],
            Err(RetryError::Permanent("550")),
            1,
        ),
        // Waits the remote asked for do not use up attempts.
        (vec![wait(30), wait(30), t(), t(), Some(Ok(2))], Ok(2), 5),
    ];
    let stopping = Stopping::new();
    for (i, (answers, want, calls)) in cases.into_iter().enumerate() {
        let (got, n) = run(policy, answers, &stopping).await;
        assert_eq!((got, n), (want, calls), "case {i}");
    }
}

#[tokio::test(start_paused = true)]
async fn unlimited_attempts_stop_at_max_elapsed() {
    let policy = RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(1))
        .with_max_elapsed(Some(Duration::from_secs(10)));
    let started = tokio::time::Instant::now();
    let answers = (0..1000)
        .map(|_| Some(Err(Failure::transient("down"))))
        .collect();
    let (got, calls) = run(policy, answers, &Stopping::new()).await;
    assert!(matches!(got, Err(RetryError::GaveUp { error: "down", .. })));
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(10) && elapsed < Duration::from_secs(12));
    assert!(calls > 10, "{calls}");
}

/// A shutdown token cancelled `after` from now (on the paused clock).
fn stopping_after(after: Duration) -> Stopping {
    let stopping = Stopping::new();
    let stop = stopping.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        stop.cancel();
    });
    stopping
}

#[tokio::test(start_paused = true)]
async fn shutdown_interrupts_a_backoff_wait_at_once() {
    let stopping = stopping_after(Duration::from_secs(1));
    let started = tokio::time::Instant::now();
    let answers = vec![Some(Err(Failure::Transient {
        error: "429",
        retry_after: Some(Duration::from_secs(60)),
    }))];
    let (got, calls) = run(RetryPolicy::default(), answers, &stopping).await;
    assert_eq!((got, calls), (Err(RetryError::Stopped), 1));
    assert_eq!(started.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn shutdown_abandons_a_hanging_attempt_after_the_grace_period() {
    let stopping = stopping_after(Duration::from_secs(1));
    let started = tokio::time::Instant::now();
    let policy = RetryPolicy::default();
    let (got, _) = run(policy, vec![None], &stopping).await;
    assert_eq!(got, Err(RetryError::Stopped));
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(1) + policy.shutdown_grace
    );
}
