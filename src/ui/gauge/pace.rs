//! The pace of the figures lines (rates, costs, the depth's sparkline): the
//! gauge's markers and the status line follow every frame, but figures that
//! move by themselves (the oldest message's age ticks, μ over a sliding
//! window hovers at a rounding edge) would repaint at frame rate for no news.
//! So their [`Figures`] are taken afresh at most every [`FIGURES_EVERY`], all
//! from one reading, and λ, μ and ρ only move when the value has clearly left
//! what is shown ([`Steady`]). Pure: the caller gives the time.

use std::time::Duration;

use super::Figures;

/// The figures lines are taken afresh at most this often: 4 times a second.
pub const FIGURES_EVERY: Duration = Duration::from_millis(250);

/// How far a value may stray from the figure shown before the figure moves,
/// in steps of its last digit. Rounding alone changes the figure at half a
/// step; the extra quarter keeps a value hovering at that edge from flipping
/// it back and forth, at the price of a figure up to ¾ of its last digit off.
const BAND: f64 = 0.75;

/// A figure shown to a fixed step that moves only when the value has moved
/// more than `BAND` (three quarters of a step) away from it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Steady {
    /// The figure shown, in steps; `None` before there is one.
    shown: Option<i64>,
}

impl Steady {
    /// The figure to show for `value`, a multiple of `step`, or `value` itself
    /// if it is unknown or not finite (∞ for ρ when nothing was completed).
    pub fn show(&mut self, value: Option<f64>, step: f64) -> Option<f64> {
        let Some(v) = value.filter(|v| v.is_finite()) else {
            self.shown = None;
            return value;
        };
        let steps = v / step;
        match self.shown {
            Some(shown) if (steps - shown as f64).abs() <= BAND => {}
            // Saturates beyond i64, where a step is far below the value's precision anyway.
            _ => self.shown = Some(steps.round() as i64),
        }
        self.shown.map(|shown| shown as f64 * step)
    }
}

/// The figures as last shown, and when they were taken.
#[derive(Debug, Clone, Default)]
pub struct Pace {
    held: Option<(Duration, Figures)>,
    arrival: Steady,
    service: Steady,
    utilisation: Steady,
}

impl Pace {
    /// The figures to show at `now` (any monotonic time): the held ones if
    /// they were taken less than [`FIGURES_EVERY`] ago, otherwise `fresh`,
    /// steadied. `force` takes `fresh` whatever the time (the last frame
    /// shows the last reading).
    pub fn figures(
        &mut self,
        now: Duration,
        fresh: impl FnOnce() -> Figures,
        force: bool,
    ) -> &Figures {
        let due = match &self.held {
            Some((at, _)) => force || now.saturating_sub(*at) >= FIGURES_EVERY,
            None => true,
        };
        if due {
            let mut f = fresh();
            // The steps of the figures as the lines print them: 0.1/s and 0.01.
            f.arrival = self.arrival.show(f.arrival, 0.1);
            f.service = self.service.show(f.service, 0.1);
            f.utilisation = self.utilisation.show(f.utilisation, 0.01);
            self.held = Some((now, f));
        }
        let (_, figures) = self.held.get_or_insert_with(Default::default);
        figures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(x: Option<f64>) -> String {
        x.map_or("-".into(), |x| format!("{x:.1}"))
    }

    #[test]
    fn a_value_hovering_at_a_rounding_edge_does_not_flip_the_figure() {
        let mut mu = Steady::default();
        let shown: Vec<String> = [3.349, 3.351, 3.348, 3.352, 3.36, 3.37]
            .iter()
            .map(|&v| text(mu.show(Some(v), 0.1)))
            .collect();
        assert_eq!(shown, ["3.3"; 6]);
        // Clearly past the edge, it moves, and stays.
        assert_eq!(text(mu.show(Some(3.38), 0.1)), "3.4");
        assert_eq!(text(mu.show(Some(3.33), 0.1)), "3.4");
        assert_eq!(text(mu.show(Some(3.32), 0.1)), "3.3");
    }

    #[test]
    fn a_jump_is_shown_at_once_and_the_figure_is_never_far_off() {
        let mut rho = Steady::default();
        assert_eq!(text(rho.show(Some(0.5), 0.01)), "0.5");
        assert_eq!(text(rho.show(Some(2.5), 0.01)), "2.5");
        let mut steady = Steady::default();
        for i in 0..10_000 {
            let v = 3.0 + f64::from(i % 97) * 0.0123;
            let shown = steady.show(Some(v), 0.1).unwrap();
            assert!(
                (shown - v).abs() <= BAND * 0.1 + 1e-9,
                "{v} shown as {shown}"
            );
        }
    }

    #[test]
    fn unknown_and_infinite_values_are_shown_as_they_are() {
        let mut rho = Steady::default();
        assert_eq!(text(rho.show(Some(1.04), 0.01)), "1.0");
        assert_eq!(rho.show(None, 0.01), None);
        assert_eq!(rho.show(Some(f64::INFINITY), 0.01), Some(f64::INFINITY));
        let shown = rho.show(Some(1.046), 0.01).unwrap();
        assert!(
            (shown - 1.05).abs() < 1e-9,
            "rounded afresh, not held at 1.04"
        );
    }

    #[test]
    fn figures_are_taken_afresh_at_most_every_quarter_second_unless_forced() {
        let mut pace = Pace::default();
        let oldest = |s: f64| {
            move || Figures {
                oldest_age_s: Some(s),
                ..Figures::default()
            }
        };
        let ms = Duration::from_millis;
        assert_eq!(
            pace.figures(ms(0), oldest(1.0), false).oldest_age_s,
            Some(1.0)
        );
        assert_eq!(
            pace.figures(ms(249), oldest(1.2), false).oldest_age_s,
            Some(1.0)
        );
        assert_eq!(
            pace.figures(ms(250), oldest(1.3), false).oldest_age_s,
            Some(1.3)
        );
        assert_eq!(
            pace.figures(ms(260), oldest(1.4), true).oldest_age_s,
            Some(1.4)
        );
        assert_eq!(
            pace.figures(ms(300), oldest(1.5), false).oldest_age_s,
            Some(1.4)
        );
    }
}
