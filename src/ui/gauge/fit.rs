//! Fitting a line of text to a width without cutting a word: a line is made of
//! fields, and when it is too wide its fields give way one step at a time in
//! a stated order (least important first), each step showing a field's next
//! shorter form or, after its last, nothing. What is left is whole.

/// The width of `text` in terminal columns: one per character (the gauge
/// draws only characters one column wide).
pub fn columns(text: &str) -> usize {
    text.chars().count()
}

/// The fields of a line in the order they are shown, each with its forms,
/// longest first; a field with no forms shows nothing.
pub type Fields = Vec<Vec<String>>;

/// `fields` two spaces apart, after as many steps of `order` (indices into
/// `fields`) as it takes to fit in `width`; empty if even the last step does not fit.
pub fn fit(fields: &Fields, order: &[usize], width: usize) -> String {
    let mut form = vec![0; fields.len()];
    let mut steps = order.iter();
    loop {
        let shown: Vec<&str> = fields
            .iter()
            .zip(&form)
            .filter_map(|(forms, &i)| forms.get(i).map(String::as_str))
            .collect();
        let line = shown.join("  ");
        if columns(&line) <= width {
            return line;
        }
        match steps.next() {
            Some(&field) => form[field] += 1,
            None => return String::new(),
        }
    }
}

/// The first of `texts` (most complete first) that fits in `width`, or nothing.
pub fn first_that_fits(texts: &[String], width: usize) -> String {
    texts
        .iter()
        .find(|t| columns(t) <= width)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(forms: &[&[&str]]) -> Fields {
        forms
            .iter()
            .map(|f| f.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn fields_give_way_in_the_stated_order_and_are_never_cut() {
        let line = fields(&[&["alpha"], &["beta long", "beta"], &["gamma"]]);
        let order = [2, 1, 0, 1];
        assert_eq!(fit(&line, &order, 100), "alpha  beta long  gamma");
        assert_eq!(fit(&line, &order, 23), "alpha  beta long  gamma");
        // gamma goes first, although beta is the longer field.
        assert_eq!(fit(&line, &order, 22), "alpha  beta long");
        assert_eq!(fit(&line, &order, 15), "alpha  beta");
        assert_eq!(fit(&line, &order, 10), "beta");
        assert_eq!(
            fit(&line, &order, 3),
            "",
            "nothing fits: nothing, not a cut"
        );
    }

    #[test]
    fn empty_fields_take_no_room() {
        let line = fields(&[&[], &["a"], &[], &["b"]]);
        assert_eq!(fit(&line, &[], 4), "a  b");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(columns("λ 8.2/s"), 7);
        assert_eq!(columns("▁▄█"), 3);
    }

    #[test]
    fn the_first_text_that_fits() {
        let texts = ["a long one".to_string(), "short".to_string()];
        assert_eq!(first_that_fits(&texts, 10), "a long one");
        assert_eq!(first_that_fits(&texts, 9), "short");
        assert_eq!(first_that_fits(&texts, 4), "");
    }
}
