//! The original's seven lines: `P:<n>` over a `|` tick, the scale, a tick and
//! `C:<n>` under it, and the depth's tick and `B:<n>`. The scale is the
//! original's 100 columns where they fit with room for labels and shrinks to
//! fit a narrower terminal; a label that would run past the right edge is
//! moved left to end at it, so a figure is always shown whole.

use super::Snapshot;
use super::fit::columns;

/// Columns of the scale at full size: the original's `0123456789` ten times.
pub const SCALE_COLUMNS: usize = 100;
/// Room kept right of the scale for labels such as `B:100` or ` 1000`.
const LABEL_ROOM: usize = 10;

/// The seven lines for a terminal `width` columns wide (at least [`super::MIN_WIDTH`]).
pub fn gauge(s: &Snapshot, width: usize) -> Vec<String> {
    let (columns, labelled) = scale_columns(s.capacity, width);
    let ring = |count: u64| {
        // The latest message, if any, at its slot around the ring.
        count
            .checked_sub(1)
            .map(|latest| (column(latest % s.capacity, s.capacity, columns), latest))
    };
    let (p_tick, p_label) = markers(ring(s.produced), "P", width);
    let (c_tick, c_label) = markers(ring(s.consumed), "C", width);
    let depth = s.depth();
    let (b_tick, b_label) = markers(
        Some((column(depth, s.capacity, columns), depth)),
        "B",
        width,
    );
    vec![
        p_label,
        p_tick,
        scale(s.capacity, columns, labelled),
        c_tick,
        c_label,
        b_tick,
        b_label,
    ]
}

/// The original's 100 columns when they fit with room for labels (and for
/// the capacity at the ruler's end), fewer on a narrower terminal; and
/// whether the capacity is written at the end, which it is unless it would
/// leave less than [`LABEL_ROOM`] columns of scale.
fn scale_columns(capacity: u64, width: usize) -> (usize, bool) {
    let label = columns(&format!(" {capacity}"));
    let labelled = width >= label + LABEL_ROOM;
    let room = if labelled {
        LABEL_ROOM.max(label)
    } else {
        LABEL_ROOM
    };
    (width.saturating_sub(room).min(SCALE_COLUMNS), labelled)
}

/// The column of `slot` (0..=capacity) on a scale of `columns` columns.
fn column(slot: u64, capacity: u64, columns: usize) -> usize {
    // In u128: a slot times the columns may not fit in a u64.
    (u128::from(slot) * columns as u128 / u128::from(capacity)) as usize
}

/// A `|` tick and a `name:value` label at a column; blank lines if there is
/// nothing to mark. The label starts at the tick, or ends at the right edge
/// if it would not fit there; a label wider than the terminal is left out.
fn markers(at: Option<(usize, u64)>, name: &str, width: usize) -> (String, String) {
    let Some((column, value)) = at else {
        return (String::new(), String::new());
    };
    let tick = format!("{}|", " ".repeat(column));
    let label = format!("{name}:{value}");
    let label = match width.checked_sub(columns(&label)) {
        Some(last_start) => format!("{}{label}", " ".repeat(column.min(last_start))),
        None => String::new(),
    };
    (tick, label)
}

/// The original's `0123456789` ten times at the default size; otherwise a ruler with
/// a `+` every tenth, its ends labelled 0 and (if `labelled`) the capacity.
fn scale(capacity: u64, columns: usize, labelled: bool) -> String {
    if capacity == 100 && columns == SCALE_COLUMNS {
        return "0123456789".repeat(10);
    }
    let ruler: String = (0..columns)
        .map(|i| match i {
            0 => '0',
            // the first column of each tenth of the scale
            _ if i * 10 / columns != (i - 1) * 10 / columns => '+',
            _ => '-',
        })
        .collect();
    if labelled {
        format!("{ruler} {capacity}")
    } else {
        ruler
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_that_would_run_off_the_edge_ends_at_it() {
        assert_eq!(
            markers(Some((3, 7)), "P", 20),
            ("   |".into(), "   P:7".into())
        );
        let (tick, label) = markers(Some((15, 123_456)), "B", 20);
        assert_eq!(tick, format!("{}|", " ".repeat(15)));
        assert_eq!(label, format!("{}B:123456", " ".repeat(12)));
        assert_eq!(columns(&label), 20);
        assert_eq!(
            markers(Some((1, 123_456)), "B", 7).1,
            "",
            "too wide to show whole"
        );
    }

    #[test]
    fn a_huge_capacity_keeps_room_for_its_number() {
        let capacity = 1_000_000_000;
        let (columns, labelled) = scale_columns(capacity, 21);
        assert_eq!((columns, labelled), (21 - " 1000000000".len(), true));
        assert_eq!(super::columns(&scale(capacity, columns, labelled)), 21);
        // Too long to leave a scale beside it: left out.
        let (columns, labelled) = scale_columns(u64::MAX, 29);
        assert_eq!((columns, labelled), (29 - LABEL_ROOM, false));
        assert_eq!(scale(u64::MAX, columns, labelled), "0-+-+-+-+-+-+-+-+-+");
        assert_eq!(column(capacity, capacity, 10), 10, "no overflow in u64");
        assert_eq!(column(u64::MAX, u64::MAX, 100), 100);
    }
}
