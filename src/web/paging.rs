//! Page numbers for long lists: which page, how many, and the links between them.

/// Rows per page on every paginated list.
pub const PAGE_SIZE: i64 = 25;

/// The last page anyone may ask for: a million pages of 25 is past any list, and its
/// offset (even with a thousand rows a page) is far from overflowing.
pub const MAX_PAGE: i64 = 1_000_000;

#[derive(Debug, Clone)]
pub struct Pager {
    pub page: i64,
    /// `None` when counting would cost a full scan; `more` then says whether one follows.
    pub pages: Option<i64>,
    pub total: Option<i64>,
    pub more: bool,
    /// The list's path with its filters, ready for `page=` to be appended.
    base: String,
}

impl Pager {
    /// `requested` is clamped to the pages that exist.
    pub fn counted(
        requested: Option<i64>,
        total: i64,
        path: &str,
        filters: &[(&str, String)],
    ) -> Pager {
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        let page = Pager::requested(requested).min(pages);
        Pager {
            page,
            pages: Some(pages),
            total: Some(total),
            more: page < pages,
            base: base(path, filters),
        }
    }

    /// For lists that fetch one row beyond the page to learn whether another follows.
    pub fn open_ended(page: i64, more: bool, path: &str, filters: &[(&str, String)]) -> Pager {
        Pager {
            page,
            pages: None,
            total: None,
            more,
            base: base(path, filters),
        }
    }

    /// The page asked for, between 1 and a page whose offset cannot overflow.
    pub fn requested(page: Option<i64>) -> i64 {
        page.unwrap_or(1).clamp(1, MAX_PAGE)
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * PAGE_SIZE
    }

    pub fn url(&self, page: &i64) -> String {
        format!("{}page={page}", self.base)
    }

    pub fn prev(&self) -> Option<i64> {
        (self.page > 1).then_some(self.page - 1)
    }

    pub fn next(&self) -> Option<i64> {
        self.more.then_some(self.page + 1)
    }
}

fn base(path: &str, filters: &[(&str, String)]) -> String {
    let mut url = format!("{path}?");
    for (key, value) in filters {
        if !value.is_empty() {
            url.push_str(&format!("{key}={}&", urlencoding::encode(value)));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_clamp_and_links_keep_filters() {
        let p = Pager::counted(
            Some(9),
            51,
            "/x",
            &[("q", "a b".into()), ("f", String::new())],
        );
        assert_eq!(
            (p.page, p.pages, p.prev(), p.next()),
            (3, Some(3), Some(2), None)
        );
        assert_eq!(p.url(&2), "/x?q=a%20b&page=2");
        assert_eq!(p.offset(), 50);
        let p = Pager::counted(None, 0, "/x", &[]);
        assert_eq!(
            (p.page, p.pages, p.prev(), p.next()),
            (1, Some(1), None, None)
        );
    }
}
