//! Queueing theory beside the simulation: the M/M/c/K share of offers that
//! find the buffer full, for the sweep's rows, the live summary's prediction
//! and `fit --consume-every`'s comparison, and when it applies. One formula
//! for every consumer count (with one consumer it is M/M/1/K's).

use crate::model::{ArrivalKind, Model, ServiceKind};

/// What queueing theory says of a system: the steady-state share of offers
/// that find the buffer full, and which formula said it.
#[derive(Debug, Clone, PartialEq)]
pub struct Theory {
    pub full_share: f64,
    /// `M/M/1/K`, or `M/M/c/K` with c the consumers (`M/M/3/K`).
    pub formula: String,
}

/// The M/M/c/K share for the model's own arrivals and service (a caller
/// replaying a trace or a `--service-from` file has no formula): where both
/// are exponential and no `--stall` interrupts the consumers, which no
/// formula knows of. A full buffer's policy does not matter: blocking,
/// dropping the newest and dropping the oldest all leave the number in the
/// system at K, so the offers that find it full are the same share.
pub fn theory(model: &Model, consumers: u32, capacity: u64) -> Option<Theory> {
    let exponential =
        model.arrivals == ArrivalKind::Exponential && model.service == ServiceKind::Exponential;
    if !exponential || !model.stalls.is_empty() {
        return None;
    }
    // λ/μ for one consumer: the offered load in Erlangs.
    let offered = model.utilisation(1)?;
    Some(Theory {
        full_share: m_m_c_k_blocking(offered, consumers, capacity),
        formula: format!("M/M/{}/K", consumers.max(1)),
    })
}

/// The share of offers that find the buffer full when arrivals and service are
/// both exponential, with `consumers` = c consumers: the M/M/c/K blocking probability
/// with K = capacity + c places (the buffer, and one message in service per
/// consumer), for `offered` = λ/μ (one consumer's μ; ρ = offered / c).
///
/// Exact here, though the producer blocks rather than losing its offer: a blocked producer
/// is one more state of a birth–death chain (its message waits, nothing new
/// is offered; a departure lets it in and the chain is back at K), and
/// offers are made only in states 0..=K, where that chain's distribution is
/// M/M/c/K's. With p_n ∝ aⁿ/n! below c and a^c/c!·rᶜ⁻ⁿ… above (r = a/c),
/// the share is a^c/c!·r^cap / (Σ_{n<c} aⁿ/n! + a^c/c!·Σ_{j≤cap} rʲ), worked
/// in logarithms with the geometric sum in closed form, so neither a large
/// capacity nor many consumers overflows.
pub fn m_m_c_k_blocking(offered: f64, consumers: u32, capacity: u64) -> f64 {
    let c = consumers.max(1);
    let a = offered;
    if a <= 0.0 {
        return 0.0;
    }
    let ln_a = a.ln();
    // ln(aⁿ/n!) for n = 0..c, and ln Σ_{n<c}.
    let mut ln_term = 0.0f64;
    let mut ln_below = f64::NEG_INFINITY;
    for n in 0..c {
        ln_below = ln_add(ln_below, ln_term);
        ln_term += ln_a - f64::from(n + 1).ln();
    }
    // ln_term is now ln(a^c / c!).
    let r = a / f64::from(c);
    let k = capacity as f64;
    let ln_r = r.ln();
    // ln Σ_{j=0..=cap} rʲ.
    let ln_geometric = if (r - 1.0).abs() < 1e-12 {
        (k + 1.0).ln()
    } else if r > 1.0 {
        k * ln_r + ((1.0 - (-(k + 1.0) * ln_r).exp()) / (1.0 - 1.0 / r)).ln()
    } else {
        ((1.0 - ((k + 1.0) * ln_r).exp()) / (1.0 - r)).ln()
    };
    let ln_full = ln_term + k * ln_r;
    let ln_total = ln_add(ln_below, ln_term + ln_geometric);
    (ln_full - ln_total).exp().clamp(0.0, 1.0)
}

/// ln(eˣ + eʸ) without overflow.
fn ln_add(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x > y { (x, y) } else { (y, x) };
    if lo == f64::NEG_INFINITY {
        hi
    } else {
        hi + (lo - hi).exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The share of offers that find the buffer full when arrivals and service are
    /// both exponential with one consumer: the M/M/1/K blocking probability
    /// (1−ρ)ρ^K / (1−ρ^(K+1)) with K = capacity + 1. The message in service counts,
    /// and a blocked producer offers nothing new, which makes it exact here.
    fn m_m_1_k_blocking(rho: f64, capacity: u64) -> f64 {
        let k = capacity.saturating_add(1) as f64;
        if (rho - 1.0).abs() < 1e-9 {
            1.0 / (k + 1.0)
        } else if rho > 1.0 {
            // Divided through by ρ^(K+1), so it does not overflow for large K.
            ((rho - 1.0) / rho) / (1.0 - rho.powf(-(k + 1.0)))
        } else {
            (1.0 - rho) * rho.powf(k) / (1.0 - rho.powf(k + 1.0))
        }
    }

    #[test]
    fn the_m_m_1_k_formula() {
        // ρ = 0.5, capacity 1 (K = 2): 0.5 · 0.25 / (1 − 0.125) = 1/7.
        assert!((m_m_1_k_blocking(0.5, 1) - 1.0 / 7.0).abs() < 1e-12);
        // ρ = 1, K = 3: 1/4.
        assert!((m_m_1_k_blocking(1.0, 2) - 0.25).abs() < 1e-12);
        // ρ = 2, K = 2: (−1)·4/(1 − 8) = 4/7, computed without overflow.
        assert!((m_m_1_k_blocking(2.0, 1) - 4.0 / 7.0).abs() < 1e-12);
        assert!((m_m_1_k_blocking(1.5, 1_000_000) - 1.0 / 3.0).abs() < 1e-12);
        assert!(m_m_1_k_blocking(0.5, 1_000_000) == 0.0);
    }

    #[test]
    fn the_m_m_c_k_formula() {
        // One consumer: M/M/1/K.
        for (rho, capacity) in [(0.5, 1), (1.0, 2), (2.0, 1), (1.5, 1_000_000), (0.9, 10)] {
            let (c, one) = (
                m_m_c_k_blocking(rho, 1, capacity),
                m_m_1_k_blocking(rho, capacity),
            );
            // In logarithms: as close as a million-fold power allows.
            assert!(
                (c - one).abs() < 1e-9 * one,
                "rho {rho} cap {capacity}: {c} vs {one}"
            );
        }
        // Two consumers, a = 1, capacity 1 (3 places): terms 1, 1, 1/2, 1/4;
        // blocked 1/4 of 11/4 = 1/11.
        assert!((m_m_c_k_blocking(1.0, 2, 1) - 1.0 / 11.0).abs() < 1e-12);
        // Three consumers, a = 3 (r = 1), capacity 2: terms 1, 3, 9/2, 9/2,
        // 9/2, 9/2: blocked (9/2) / (8.5 + 13.5) = 9/44.
        assert!((m_m_c_k_blocking(3.0, 3, 2) - 9.0 / 44.0).abs() < 1e-12);
        // Overloaded with many consumers and a huge buffer: 1 − 1/ρ, no overflow.
        let b = m_m_c_k_blocking(2000.0, 1000, 10_000_000);
        assert!((b - 0.5).abs() < 1e-9, "{b}");
        // Light load, big buffer: never full.
        assert!(m_m_c_k_blocking(10.0, 100, 1000) < 1e-300);
    }

    #[test]
    fn theory_applies_to_exponential_models_without_stalls() {
        use crate::model::Stall;
        use std::time::Duration;
        let mut model = Model::original();
        assert_eq!(theory(&model, 1, 10), None, "bursty arrivals");
        model.arrivals = ArrivalKind::Exponential;
        assert_eq!(theory(&model, 1, 10), None, "fixed service");
        model.service = ServiceKind::Exponential;
        // 20 ms between offers, 300 ms of service: a = 15.
        let one = theory(&model, 1, 10).unwrap();
        assert_eq!(one.formula, "M/M/1/K");
        assert_eq!(one.full_share, m_m_c_k_blocking(15.0, 1, 10));
        let many = theory(&model, 16, 10).unwrap();
        assert_eq!(many.formula, "M/M/16/K");
        assert!(many.full_share < one.full_share / 10.0, "{many:?}");
        model.stalls.push(Stall {
            at: Duration::from_secs(1),
            length: Duration::from_secs(1),
        });
        assert_eq!(theory(&model, 1, 10), None, "a stall");
    }
}
