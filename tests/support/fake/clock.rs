//! The fake's clock: real elapsed time multiplied by `time_scale`, plus manual jumps. Every
//! window, expiry and header the fake computes reads this clock, so a test can let three hours
//! pass in a second and still see consistent `X-RateLimit-Reset` instants.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

#[derive(Debug)]
pub struct Clock {
    start_real: Instant,
    start_fake: DateTime<Utc>,
    scale: f64,
    offset: Mutex<chrono::Duration>,
}

impl Clock {
    pub fn new(start_fake: DateTime<Utc>, scale: f64) -> Clock {
        assert!(scale > 0.0, "time_scale must be positive");
        Clock {
            start_real: Instant::now(),
            start_fake,
            scale,
            offset: Mutex::new(chrono::Duration::zero()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let real = self.start_real.elapsed().as_secs_f64() * self.scale;
        let scaled = chrono::Duration::nanoseconds((real * 1e9) as i64);
        self.start_fake + scaled + *self.offset.lock().unwrap()
    }

    /// Jumps the clock forward.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += chrono::Duration::from_std(by).expect("duration in range");
    }

    /// How much real time a span of fake time takes.
    pub fn real_duration(&self, fake: Duration) -> Duration {
        fake.div_f64(self.scale)
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }
}
