//! `--compare`: a read scenario measured on the server's two listeners over the same
//! services and database — one with the layers as served, one with none — in alternating
//! windows, so that the machine's drift (other processes, clock speed, a neighbour's load)
//! falls on both alike. Separate runs of `--layers on` and `off` differ by more than the
//! layers cost on this machine; windows a few seconds apart in one process do not. With
//! `--layers off` both listeners are the same: what the method reads when there is no
//! difference.

use std::time::Duration;

use crate::load::{self, MakeRequest, Outcome, Window};
use crate::Server;

/// What one scenario measured on the two listeners.
pub struct Compared {
    pub served: Outcome,
    pub bare: Outcome,
    /// Each round's throughput with the layers over that without.
    pub ratios: Vec<f64>,
}

/// Warm-up before each window: connections to both listeners stay open between windows, so
/// this only lets the other listener's last requests drain.
const WARMUP: Duration = Duration::from_millis(500);

/// Measures `served` against `bare` in `rounds` rounds of one `window` each, the order of the
/// two alternating from round to round.
pub async fn measure(
    client: &reqwest::Client,
    served: MakeRequest,
    bare: MakeRequest,
    concurrency: usize,
    window: Duration,
    rounds: usize,
) -> Compared {
    let two_seconds = Duration::from_secs(2);
    load::window(
        client,
        served.clone(),
        concurrency,
        two_seconds,
        Duration::ZERO,
    )
    .await;
    load::window(
        client,
        bare.clone(),
        concurrency,
        two_seconds,
        Duration::ZERO,
    )
    .await;
    let (mut on, mut off): (Vec<Window>, Vec<Window>) = (Vec::new(), Vec::new());
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let run =
            |make: &MakeRequest| load::window(client, make.clone(), concurrency, WARMUP, window);
        let (s, b) = if round % 2 == 0 {
            let s = run(&served).await;
            (s, run(&bare).await)
        } else {
            let b = run(&bare).await;
            (run(&served).await, b)
        };
        if b.answered() > 0 {
            ratios.push(s.answered() as f64 / b.answered() as f64);
        }
        on.push(s);
        off.push(b);
    }
    Compared {
        served: Outcome::of(&on),
        bare: Outcome::of(&off),
        ratios,
    }
}

/// The middle of `values` (the mean of the two middle ones for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One read scenario's figures: its rows (a suffix for the scenario's name, and what it
/// measured) and, compared, the summary line printed after the table.
pub struct Scenario {
    pub rows: Vec<(&'static str, Outcome)>,
    pub note: Option<String>,
}

impl Scenario {
    /// Prints the rows of the scenario `name`.
    pub fn print(&self, name: &str, concurrency: usize) {
        for (suffix, r) in &self.rows {
            load::row(&format!("{name}{suffix}"), concurrency, r);
        }
    }
}

/// Runs one read scenario as the run asks: once against the server, or, when it has a bare
/// listener, compared on the two. `make` builds the scenario's request against a base URL.
pub async fn scenario(
    client: &reqwest::Client,
    server: &Server,
    concurrency: usize,
    duration: Duration,
    rounds: usize,
    make: impl Fn(&str) -> anyhow::Result<MakeRequest>,
) -> anyhow::Result<Scenario> {
    let Some(bare) = &server.bare else {
        let r = load::run(client, make(&server.base)?, concurrency, duration).await;
        return Ok(Scenario {
            rows: vec![("", r)],
            note: None,
        });
    };
    let c = measure(
        client,
        make(&server.base)?,
        make(bare)?,
        concurrency,
        duration,
        rounds,
    )
    .await;
    let plural = if concurrency == 1 { "" } else { "s" };
    let note = if c.ratios.is_empty() {
        format!(
            "{concurrency} connection{plural}: no round was answered without the layers, so \
             there is no ratio"
        )
    } else {
        let (lo, hi) = c
            .ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        format!(
            "{concurrency} connection{plural}: layers on/off throughput {:.3} (median of {} \
                 rounds of {} s each, {:.3} – {:.3}; of the totals {:.3}); server CPU {:.1} \
                 against {:.1} µs/request",
            median(&c.ratios),
            c.ratios.len(),
            duration.as_secs(),
            lo,
            hi,
            c.served.per_second / c.bare.per_second.max(f64::MIN_POSITIVE),
            c.served.cpu_us_per_request,
            c.bare.cpu_us_per_request,
        )
    };
    Ok(Scenario {
        rows: vec![(" — layers on", c.served), (" — layers off", c.bare)],
        note: Some(note),
    })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[0.9, 0.7, 1.2]), 0.9);
        assert_eq!(median(&[1.0, 0.8, 0.95, 0.9]), 0.925);
    }
}
