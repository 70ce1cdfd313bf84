//! The client's own request budget: a pacer (GCRA) that spaces requests at a rate, halves the
//! rate when Graph throttles and creeps back up while requests succeed, and pauses every
//! request while a `Retry-After` runs. A `$batch` of n requests counts n, as Graph counts it.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
struct State {
    /// The configured budget (requests per second).
    max_rate: f64,
    /// The current rate: the budget, or less after throttling.
    rate: f64,
    /// Theoretical arrival time of the next request (GCRA).
    tat: Instant,
    /// No request before this instant (a `Retry-After` in force).
    paused_until: Instant,
    /// Last time the rate was cut, so one burst of 429s cuts it once.
    last_cut: Option<Instant>,
}

#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
}

/// Lowest rate the pacer falls to (requests per second).
const MIN_RATE: f64 = 1.0;
/// How much each successful request adds back to a reduced rate.
const RECOVERY_PER_REQUEST: f64 = 0.05;

impl Pacer {
    pub fn new(requests_per_second: u32) -> Pacer {
        let now = Instant::now();
        let rate = f64::from(requests_per_second.max(1));
        Pacer {
            state: Mutex::new(State {
                max_rate: rate,
                rate,
                tat: now,
                paused_until: now,
                last_cut: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Burst allowance in requests: half a second of budget, so a server whose budget equals
    /// ours keeps headroom for jitter.
    fn burst(rate: f64) -> f64 {
        (rate / 2.0).max(1.0)
    }

    /// Wait until `n` more requests may be sent.
    pub async fn acquire(&self, n: usize) {
        let n = n.max(1) as f64;
        loop {
            let wait = {
                let mut s = self.lock();
                let now = Instant::now();
                if s.paused_until > now {
                    Some(s.paused_until - now)
                } else {
                    let interval = Duration::from_secs_f64(1.0 / s.rate);
                    let tat = s.tat.max(now);
                    let new_tat = tat + interval.mul_f64(n);
                    let allowance = interval.mul_f64(Self::burst(s.rate).max(n));
                    let allow_at = new_tat.checked_sub(allowance).unwrap_or(now);
                    if allow_at <= now {
                        s.tat = new_tat;
                        None
                    } else {
                        Some(allow_at - now)
                    }
                }
            };
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// Graph throttled a request: pause for `retry_after` and halve the rate (once per
    /// second, however many requests of one burst were throttled).
    pub fn throttled(&self, retry_after: Option<Duration>) {
        let mut s = self.lock();
        let now = Instant::now();
        if let Some(d) = retry_after {
            s.paused_until = s.paused_until.max(now + d);
        }
        if s.last_cut
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
        {
            s.rate = (s.rate / 2.0).max(MIN_RATE);
            s.last_cut = Some(now);
            tracing::debug!(rate = s.rate, "throttled: request rate halved");
        }
    }

    /// `n` requests went through: recover a little of a reduced rate.
    pub fn succeeded(&self, n: usize) {
        let mut s = self.lock();
        if s.rate < s.max_rate {
            s.rate = (s.rate + RECOVERY_PER_REQUEST * n as f64).min(s.max_rate);
        }
    }

    /// Requests per `$batch` that suit the current rate: at most 20, at most a second's worth.
    pub fn batch_size(&self) -> usize {
        (self.lock().rate as usize).clamp(1, super::client::MAX_BATCH)
    }

    pub fn rate(&self) -> f64 {
        self.lock().rate
    }
}

/// Exponential backoff with jitter for a retry that came without `Retry-After`: between half
/// and all of `backoff_base * 2^attempt`, capped at `backoff_max` (by default 0.25 s and 32 s).
pub fn backoff(attempt: u32, policy: &super::client::RetryPolicy) -> Duration {
    let full = policy
        .backoff_base
        .saturating_mul(1u32 << attempt.min(16))
        .min(policy.backoff_max);
    full.mul_f64(0.5 + fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn paces_at_the_budget_after_a_burst() {
        let p = Pacer::new(10);
        let start = tokio::time::Instant::now();
        for _ in 0..25 {
            p.acquire(1).await;
        }
        // 5 in the burst, then 20 more at 10/s.
        let took = start.elapsed().as_secs_f64();
        assert!((1.9..2.2).contains(&took), "{took}");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn throttling_halves_the_rate_once_per_burst_and_pauses() {
        let p = Pacer::new(100);
        p.throttled(Some(Duration::from_secs(2)));
        p.throttled(Some(Duration::from_secs(1)));
        assert_eq!(p.rate(), 50.0);
        assert_eq!(p.batch_size(), 20);
        let start = tokio::time::Instant::now();
        p.acquire(1).await;
        assert!(start.elapsed() >= Duration::from_secs(2));
        p.succeeded(100);
        assert_eq!(p.rate(), 55.0);
        for _ in 0..10 {
            tokio::time::advance(Duration::from_secs(1)).await;
            p.throttled(None);
        }
        assert_eq!(p.rate(), MIN_RATE);
        assert_eq!(p.batch_size(), 1);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let policy = super::super::client::RetryPolicy::default();
        for attempt in 0..40 {
            let d = backoff(attempt, &policy).as_secs_f64();
            let full = (0.25 * 2f64.powi(attempt.min(16) as i32)).min(32.0);
            assert!(d >= full * 0.5 - 1e-9 && d <= full + 1e-9, "{attempt}: {d}");
        }
    }
}
