//! Bounding free text before it is shown (pure).

/// At most `max` characters of `text`, saying how many were left out.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… ({} more characters)", total - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("ääää", 2), "ää… (2 more characters)");
        assert_eq!(clip("ok", 2), "ok");
    }
}
