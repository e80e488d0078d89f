//! Which contact each row of a file is: pure decisions over the rows' keys and the
//! contacts those keys already lead to, no database. The whole file is resolved before
//! anything is written, so the result does not depend on the order of its rows.
//!
//! The rules: a row's keys are its channel, its CPF/CNPJ and its CODCLIENTE. Rows that
//! share any key, directly or through a chain of rows, or that lead to the same stored
//! contact, form one group and become one contact. A row whose own keys lead to two
//! different stored contacts is refused alone; a group whose rows together lead to two
//! stored contacts, or carry two different CPF/CNPJs, is refused whole. Nothing is ever
//! merged on a guess. The first row of a channel wins; its repeats are duplicates, but
//! they belong to the group all the same (their CPF/CNPJ and stored contact count, and
//! they are refused with it), so no order of the rows decides who owns a channel.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The kinds of key, kept in an entry's top bits so runs of one key can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Channel = 0,
    Document = 1,
    Code = 2,
    /// A stored contact that one of the row's keys leads to.
    Contact = 3,
}

const KIND_SHIFT: u32 = 30;
const ROW_MASK: u32 = (1 << KIND_SHIFT) - 1;
/// More rows than a file can hold within the sheet and upload limits.
pub const MAX_ROWS: u32 = ROW_MASK;

/// 128 bits of two keyed hashes: a false match would join two people, so 64 bits (one
/// chance in ~10^7 over a million rows) is not enough; 128 makes it ~10^-26.
fn fingerprint(kind: KeyKind, parts: &[&str]) -> (u64, u64) {
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        (kind as u8).hash(&mut h);
        parts.hash(&mut h);
        h.finish()
    };
    (half(1), half(2))
}

/// One key of one row, packed (24 bytes) so a million-row file's keys stay small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    hi: u64,
    lo: u64,
    /// The key's kind in the top two bits, the row's ordinal below.
    tagged_row: u32,
}

impl Entry {
    fn new(kind: KeyKind, (hi, lo): (u64, u64), row: u32) -> Self {
        Entry {
            hi,
            lo,
            tagged_row: ((kind as u32) << KIND_SHIFT) | row,
        }
    }
    fn row(&self) -> u32 {
        self.tagged_row & ROW_MASK
    }
    fn kind(&self) -> KeyKind {
        match self.tagged_row >> KIND_SHIFT {
            0 => KeyKind::Channel,
            1 => KeyKind::Document,
            2 => KeyKind::Code,
            _ => KeyKind::Contact,
        }
    }
    fn same_key(&self, other: &Entry) -> bool {
        self.hi == other.hi && self.lo == other.lo && self.kind() == other.kind()
    }
}

/// A row's keys, as normalised values.
#[derive(Debug, Clone, Copy)]
pub struct RowKeys<'a> {
    /// `TELEFONE`/`EMAIL`, and the normalised value.
    pub channel: (&'a str, &'a str),
    pub document: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// The stored contacts (as they were before this import) that a row's keys lead to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matches {
    pub by_channel: Option<i64>,
    pub by_document: Option<i64>,
    /// A code may be on several stored contacts.
    pub by_code: Vec<i64>,
}

impl Matches {
    fn distinct(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .by_channel
            .iter()
            .chain(self.by_document.iter())
            .chain(self.by_code.iter())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Why a row cannot be given a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The row's own keys lead to two stored contacts; which key led where.
    OwnKeys {
        first: i64,
        second: i64,
        matches: Matches,
    },
    /// The row's group (rows sharing keys) leads to two stored contacts.
    Group { first: i64, second: i64 },
    /// The row's group carries two different CPF/CNPJs.
    Documents,
}

/// What happens to a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Its channel appeared earlier in the file.
    Duplicate,
    /// Left out before identity (the Não Perturbe list).
    Skipped,
    Conflict(Conflict),
    /// A stored contact.
    Existing(i64),
    /// A new contact, shared by every row of the same group (the number names the group).
    New(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowState {
    Candidate,
    Skipped,
    Duplicate,
    OwnConflict,
}

/// Collects every row's keys, then decides them all at once ([`Resolver::finish`]).
#[derive(Debug, Default)]
pub struct Resolver {
    entries: Vec<Entry>,
    states: Vec<RowState>,
    /// The one stored contact each row's keys lead to (0: none).
    matched: Vec<i64>,
    own_conflicts: HashMap<u32, Conflict>,
}

impl Resolver {
    /// Room for `rows` rows of about three keys each, so the vector is not regrown.
    pub fn with_capacity(rows: usize) -> Self {
        Resolver {
            entries: Vec::with_capacity(rows.saturating_mul(2)),
            states: Vec::with_capacity(rows),
            matched: Vec::with_capacity(rows),
            own_conflicts: HashMap::new(),
        }
    }

    /// Adds the next row (rows are numbered in the order added, from 0). `skipped` rows
    /// (Não Perturbe) count for duplicates among themselves when no row of their channel
    /// can be imported.
    pub fn add(&mut self, keys: RowKeys<'_>, matches: Matches, skipped: bool) -> u32 {
        let row = self.states.len() as u32;
        assert!(row < MAX_ROWS, "more rows than an import can hold");
        let (kind, value) = keys.channel;
        self.entries.push(Entry::new(
            KeyKind::Channel,
            fingerprint(KeyKind::Channel, &[kind, value]),
            row,
        ));
        if let Some(document) = keys.document {
            self.entries.push(Entry::new(
                KeyKind::Document,
                fingerprint(KeyKind::Document, &[document]),
                row,
            ));
        }
        if let Some(code) = keys.code {
            self.entries.push(Entry::new(
                KeyKind::Code,
                fingerprint(KeyKind::Code, &[code]),
                row,
            ));
        }
        let ids = matches.distinct();
        let state = if skipped {
            RowState::Skipped
        } else if ids.len() > 1 {
            self.own_conflicts.insert(
                row,
                Conflict::OwnKeys {
                    first: ids[0],
                    second: ids[1],
                    matches,
                },
            );
            RowState::OwnConflict
        } else {
            RowState::Candidate
        };
        let contact = ids.first().copied().unwrap_or(0);
        if contact != 0 && state == RowState::Candidate {
            self.entries.push(Entry::new(
                KeyKind::Contact,
                fingerprint(KeyKind::Contact, &[&contact.to_string()]),
                row,
            ));
        }
        self.states.push(state);
        self.matched.push(contact);
        row
    }

    pub fn rows(&self) -> u32 {
        self.states.len() as u32
    }

    /// Decides every row.
    pub fn finish(mut self) -> Plan {
        let n = self.states.len();
        self.entries.sort_unstable();
        let mut entries = std::mem::take(&mut self.entries);

        // The first row of each channel wins (entries of one key are sorted by row). A row
        // left out (Não Perturbe, suppression) wins only when no row of its channel can be
        // imported, and a row refused alone never wins, so the order of the rows cannot
        // decide which of them a channel's contact comes from.
        let mut repeated = vec![false; n];
        for run in entries.chunk_by(|a, b| a.same_key(b)) {
            if run[0].kind() != KeyKind::Channel {
                continue;
            }
            let has_candidate = run
                .iter()
                .any(|e| self.states[e.row() as usize] == RowState::Candidate);
            let mut won = false;
            for e in run {
                let row = e.row() as usize;
                let competes = match self.states[row] {
                    RowState::Candidate => true,
                    RowState::Skipped => !has_candidate,
                    _ => false,
                };
                if !competes {
                    continue;
                }
                if won {
                    repeated[row] = self.states[row] == RowState::Candidate;
                    self.states[row] = RowState::Duplicate;
                } else {
                    won = true;
                }
            }
        }

        // Rows that share a key, or a stored contact, are one group. A repeat of a channel
        // belongs to its group too: its document and stored contact count, so a group that
        // carries two CPF/CNPJs is refused whole whichever row came first.
        let mut groups = UnionFind::new(n);
        let member = |states: &[RowState], e: &Entry| {
            let row = e.row() as usize;
            states[row] == RowState::Candidate || repeated[row]
        };
        for run in entries.chunk_by(|a, b| a.same_key(b)) {
            let mut rows = run.iter().filter(|e| member(&self.states, e));
            if let Some(first) = rows.next() {
                for other in rows {
                    groups.union(first.row(), other.row());
                }
            }
        }

        // What each group leads to: one stored contact at most, one document at most.
        const NONE: u32 = u32::MAX;
        let mut group_contact: Vec<i64> = vec![0; n];
        let mut group_conflict: HashMap<u32, Conflict> = HashMap::new();
        for row in 0..n as u32 {
            let contact = self.matched[row as usize];
            let is_member =
                self.states[row as usize] == RowState::Candidate || repeated[row as usize];
            if !is_member || contact == 0 {
                continue;
            }
            let root = groups.find(row);
            match group_contact[root as usize] {
                0 => group_contact[root as usize] = contact,
                known if known != contact => {
                    group_conflict.entry(root).or_insert(Conflict::Group {
                        first: known.min(contact),
                        second: known.max(contact),
                    });
                }
                _ => {}
            }
        }
        let mut group_document: Vec<u32> = vec![NONE; n];
        for (run_index, run) in entries.chunk_by(|a, b| a.same_key(b)).enumerate() {
            if run[0].kind() != KeyKind::Document {
                continue;
            }
            let Some(first) = run.iter().find(|e| member(&self.states, e)) else {
                continue;
            };
            let root = groups.find(first.row());
            match group_document[root as usize] {
                NONE => group_document[root as usize] = run_index as u32,
                other if other != run_index as u32 => {
                    group_conflict.entry(root).or_insert(Conflict::Documents);
                }
                _ => {}
            }
        }
        entries.clear();
        entries.shrink_to_fit();
        drop(group_document);

        let roots: Vec<u32> = (0..n as u32).map(|row| groups.find(row)).collect();
        Plan {
            states: self.states,
            repeated,
            roots,
            group_contact,
            group_conflict,
            own_conflicts: self.own_conflicts,
        }
    }
}

/// Every row's decision, read back in order while the rows are written.
#[derive(Debug)]
pub struct Plan {
    states: Vec<RowState>,
    /// Repeats of a channel that belong to its group (refused with it when it is refused).
    repeated: Vec<bool>,
    roots: Vec<u32>,
    group_contact: Vec<i64>,
    group_conflict: HashMap<u32, Conflict>,
    own_conflicts: HashMap<u32, Conflict>,
}

impl Plan {
    pub fn rows(&self) -> u32 {
        self.states.len() as u32
    }

    /// For a repeat of a channel whose group is not refused: the contact its group is
    /// (`Existing` or `New`), which takes the repeat's CPF/CNPJ and code.
    pub fn repeat_target(&self, row: u32) -> Option<Decision> {
        let i = row as usize;
        if self.states[i] != RowState::Duplicate || !self.repeated[i] {
            return None;
        }
        let root = self.roots[i];
        if self.group_conflict.contains_key(&root) {
            return None;
        }
        Some(match self.group_contact[root as usize] {
            0 => Decision::New(root),
            id => Decision::Existing(id),
        })
    }

    pub fn decision(&self, row: u32) -> Decision {
        let i = row as usize;
        match self.states[i] {
            RowState::Duplicate => {
                return match self.group_conflict.get(&self.roots[i]) {
                    Some(conflict) if self.repeated[i] => Decision::Conflict(conflict.clone()),
                    _ => Decision::Duplicate,
                };
            }
            RowState::Skipped => return Decision::Skipped,
            RowState::OwnConflict => {
                return Decision::Conflict(self.own_conflicts[&row].clone());
            }
            RowState::Candidate => {}
        }
        let root = self.roots[i];
        if let Some(conflict) = self.group_conflict.get(&root) {
            return Decision::Conflict(conflict.clone());
        }
        match self.group_contact[root as usize] {
            0 => Decision::New(root),
            id => Decision::Existing(id),
        }
    }
}

/// Union by size with path halving, over row numbers.
#[derive(Debug)]
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a as usize] < self.size[b as usize] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b as usize] = a;
        self.size[a as usize] += self.size[b as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as (channel value, document, code, stored contacts by channel/document/code).
    struct Row {
        channel: &'static str,
        document: Option<&'static str>,
        code: Option<&'static str>,
        matches: Matches,
    }

    fn row(
        channel: &'static str,
        document: Option<&'static str>,
        code: Option<&'static str>,
    ) -> Row {
        Row {
            channel,
            document,
            code,
            matches: Matches::default(),
        }
    }

    fn plan(rows: &[Row]) -> Plan {
        let mut resolver = Resolver::with_capacity(rows.len());
        for r in rows {
            resolver.add(
                RowKeys {
                    channel: ("TELEFONE", r.channel),
                    document: r.document,
                    code: r.code,
                },
                r.matches.clone(),
                false,
            );
        }
        resolver.finish()
    }

    /// Rows that become one new contact get the same group, whatever its number.
    fn same_new(plan: &Plan, a: u32, b: u32) -> bool {
        matches!((plan.decision(a), plan.decision(b)), (Decision::New(x), Decision::New(y)) if x == y)
    }

    #[test]
    fn a_code_links_a_row_without_document_in_either_order() {
        let forward = plan(&[
            row("p1", None, Some("K9")),
            row("e1", Some("333"), Some("K9")),
        ]);
        assert!(same_new(&forward, 0, 1));
        let backward = plan(&[
            row("e1", Some("333"), Some("K9")),
            row("p1", None, Some("K9")),
        ]);
        assert!(same_new(&backward, 0, 1));
    }

    #[test]
    fn a_row_whose_keys_lead_to_two_contacts_is_refused_alone() {
        let mut ana_phone_bruno_cpf = row("ana", Some("bruno-cpf"), None);
        ana_phone_bruno_cpf.matches = Matches {
            by_channel: Some(1),
            by_document: Some(2),
            by_code: vec![],
        };
        let mut bruno_email = row("bruno-mail", Some("bruno-cpf"), None);
        bruno_email.matches.by_document = Some(2);
        let plan = plan(&[ana_phone_bruno_cpf, bruno_email]);
        assert!(matches!(
            plan.decision(0),
            Decision::Conflict(Conflict::OwnKeys {
                first: 1,
                second: 2,
                ..
            })
        ));
        assert_eq!(plan.decision(1), Decision::Existing(2));
    }

    #[test]
    fn a_group_reaching_two_contacts_is_refused_whole() {
        let mut a = row("ana", None, Some("K5"));
        a.matches.by_channel = Some(1);
        let mut b = row("bruno", None, Some("K5"));
        b.matches.by_channel = Some(2);
        let plan = plan(&[a, b, row("other", None, None)]);
        for r in 0..2 {
            assert_eq!(
                plan.decision(r),
                Decision::Conflict(Conflict::Group {
                    first: 1,
                    second: 2
                })
            );
        }
        assert!(matches!(plan.decision(2), Decision::New(_)));
    }

    #[test]
    fn two_documents_in_one_group_are_refused() {
        let plan = plan(&[
            row("p1", Some("111"), Some("K1")),
            row("p2", Some("222"), Some("K1")),
        ]);
        assert_eq!(plan.decision(0), Decision::Conflict(Conflict::Documents));
        assert_eq!(plan.decision(1), Decision::Conflict(Conflict::Documents));
    }

    #[test]
    fn a_repeated_channel_is_a_duplicate_after_its_first_row() {
        let plan = plan(&[
            row("p1", None, None),
            row("p2", None, None),
            row("p1", Some("9"), None),
        ]);
        assert!(matches!(plan.decision(0), Decision::New(_)));
        assert_eq!(plan.decision(2), Decision::Duplicate);
        assert!(!same_new(&plan, 0, 1));
    }

    #[test]
    fn a_repeated_channel_with_another_document_refuses_the_group_in_any_order() {
        // L1 (phone X, CPF A), L2 (e-mail, CPF A), L3 (phone X, CPF B), and reversed.
        let forward = plan(&[
            row("X", Some("A"), None),
            row("E", Some("A"), None),
            row("X", Some("B"), None),
        ]);
        let reversed = plan(&[
            row("X", Some("B"), None),
            row("E", Some("A"), None),
            row("X", Some("A"), None),
        ]);
        for p in [&forward, &reversed] {
            for r in 0..3 {
                assert_eq!(
                    p.decision(r),
                    Decision::Conflict(Conflict::Documents),
                    "row {r}"
                );
            }
        }
    }

    #[test]
    fn an_exact_repeat_stays_a_duplicate_and_a_left_out_row_does_not_win() {
        let repeat = plan(&[row("X", Some("A"), None), row("X", Some("A"), None)]);
        assert!(matches!(repeat.decision(0), Decision::New(_)));
        assert_eq!(repeat.decision(1), Decision::Duplicate);
        // A row left out (Não Perturbe, suppression) before a row that can be imported.
        let mut resolver = Resolver::with_capacity(2);
        let keys = |document| RowKeys {
            channel: ("TELEFONE", "X"),
            document,
            code: None,
        };
        resolver.add(keys(Some("S")), Matches::default(), true);
        resolver.add(keys(None), Matches::default(), false);
        let p = resolver.finish();
        assert_eq!(p.decision(0), Decision::Skipped);
        assert!(matches!(p.decision(1), Decision::New(_)));
    }

    #[test]
    fn rows_reaching_one_stored_contact_update_it() {
        let mut a = row("p1", None, None);
        a.matches.by_channel = Some(7);
        let mut b = row("p2", Some("111"), None);
        b.matches.by_document = Some(7);
        let plan = plan(&[a, b, row("p3", Some("111"), None)]);
        for r in 0..3 {
            assert_eq!(plan.decision(r), Decision::Existing(7));
        }
    }

    #[test]
    fn a_chain_of_keys_makes_one_group_in_any_order() {
        let rows = || {
            vec![
                row("p1", Some("D"), None),
                row("p2", None, Some("C")),
                row("p3", Some("D"), Some("C")),
                row("p4", None, None),
            ]
        };
        let order = [2usize, 3, 0, 1];
        let shuffled: Vec<Row> = {
            let all = rows();
            let mut slots: Vec<Option<Row>> = all.into_iter().map(Some).collect();
            order.iter().map(|i| slots[*i].take().unwrap()).collect()
        };
        let a = plan(&rows());
        assert!(same_new(&a, 0, 1) && same_new(&a, 1, 2) && !same_new(&a, 0, 3));
        let b = plan(&shuffled);
        assert!(same_new(&b, 0, 2) && same_new(&b, 2, 3) && !same_new(&b, 0, 1));
    }

    mod permutations {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        /// A row: its own channel (unique), maybe one of few documents and codes, maybe
        /// one of two stored contacts by each key (channel, document, code).
        type GenRow = (Option<u8>, Option<u8>, [Option<i64>; 3]);

        /// Rows that may repeat a channel: (channel, document, code, skipped). What a key
        /// leads to in the base is a function of the key, as it is in a real base.
        type RepRow = (u8, Option<u8>, Option<u8>, bool);

        const DOCS: [&str; 3] = ["D0", "D1", "D2"];
        const CODES: [&str; 3] = ["C0", "C1", "C2"];

        fn rows() -> impl Strategy<Value = Vec<GenRow>> {
            let stored = || proptest::option::weighted(0.2, 1i64..3);
            proptest::collection::vec(
                (
                    proptest::option::of(0u8..3),
                    proptest::option::of(0u8..3),
                    [stored(), stored(), stored()],
                ),
                1..12,
            )
        }

        fn repeating_rows() -> impl Strategy<Value = (Vec<RepRow>, [Option<i64>; 9])> {
            (
                proptest::collection::vec(
                    (
                        0u8..4,
                        proptest::option::of(0u8..3),
                        proptest::option::of(0u8..2),
                        proptest::bool::weighted(0.1),
                    ),
                    1..10,
                ),
                [(); 9].map(|_| proptest::option::weighted(0.15, 1i64..3)),
            )
        }

        /// `0..n` in a deterministic order drawn from the seed (Fisher–Yates over an LCG).
        fn shuffled(n: usize, seed: u64) -> Vec<usize> {
            let mut order: Vec<usize> = (0..n).collect();
            let mut state = seed | 1;
            for i in (1..n).rev() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                order.swap(i, (state >> 33) as usize % (i + 1));
            }
            order
        }

        /// Adds the rows in `order` (`add` adds row `i`) and says what became of each key
        /// (`key_of`): refused, a stored contact, or the set of keys that became one new
        /// contact with it. Duplicates say nothing of their own.
        fn outcome(
            order: &[usize],
            mut add: impl FnMut(&mut Resolver, usize),
            key_of: impl Fn(usize) -> String,
        ) -> BTreeSet<(String, String)> {
            let mut resolver = Resolver::with_capacity(order.len());
            for &i in order {
                add(&mut resolver, i);
            }
            let plan = resolver.finish();
            let decisions: Vec<(usize, Decision)> = order
                .iter()
                .enumerate()
                .map(|(n, &i)| (i, plan.decision(n as u32)))
                .collect();
            decisions
                .iter()
                .filter(|(_, d)| *d != Decision::Duplicate)
                .map(|(i, d)| {
                    let what = match d {
                        Decision::Conflict(_) => "refused".to_string(),
                        Decision::Existing(id) => format!("stored {id}"),
                        Decision::New(group) => {
                            let members: BTreeSet<String> = decisions
                                .iter()
                                .filter(|(_, other)| other == &Decision::New(*group))
                                .map(|(j, _)| key_of(*j))
                                .collect();
                            format!("new {members:?}")
                        }
                        other => format!("{other:?}"),
                    };
                    (key_of(*i), what)
                })
                .collect()
        }

        fn unique_channels(rows: &[GenRow], order: &[usize]) -> BTreeSet<(String, String)> {
            let channels: Vec<String> = (0..rows.len()).map(|i| format!("ch{i}")).collect();
            let add = |resolver: &mut Resolver, i: usize| {
                let (doc, code, [by_channel, by_document, by_code]) = rows[i];
                resolver.add(
                    RowKeys {
                        channel: ("TELEFONE", &channels[i]),
                        document: doc.map(|d| DOCS[d as usize]),
                        code: code.map(|c| CODES[c as usize]),
                    },
                    Matches {
                        by_channel,
                        by_document: by_document.filter(|_| doc.is_some()),
                        by_code: by_code.filter(|_| code.is_some()).into_iter().collect(),
                    },
                    false,
                );
            };
            outcome(order, add, |i| channels[i].clone())
        }

        fn repeated_channels(
            rows: &[RepRow],
            stored: &[Option<i64>; 9],
            order: &[usize],
        ) -> BTreeSet<(String, String)> {
            let channels = ["ch0", "ch1", "ch2", "ch3"];
            let add = |resolver: &mut Resolver, i: usize| {
                let (ch, doc, code, skipped) = rows[i];
                resolver.add(
                    RowKeys {
                        channel: ("TELEFONE", channels[ch as usize]),
                        document: doc.map(|d| DOCS[d as usize]),
                        code: code.map(|c| CODES[c as usize]),
                    },
                    Matches {
                        by_channel: stored[ch as usize],
                        by_document: doc.and_then(|d| stored[4 + d as usize]),
                        by_code: code
                            .and_then(|c| stored[7 + c as usize])
                            .into_iter()
                            .collect(),
                    },
                    skipped,
                );
            };
            outcome(order, add, |i| channels[rows[i].0 as usize].to_string())
        }

        proptest! {
            #[test]
            fn any_order_of_the_rows_gives_the_same_contacts(
                rows in rows(),
                seed in any::<u64>(),
            ) {
                let identity: Vec<usize> = (0..rows.len()).collect();
                prop_assert_eq!(
                    unique_channels(&rows, &identity),
                    unique_channels(&rows, &shuffled(rows.len(), seed))
                );
            }

            #[test]
            fn repeated_channels_give_the_same_contacts_in_any_order(
                (rows, stored) in repeating_rows(),
                seed in any::<u64>(),
            ) {
                let identity: Vec<usize> = (0..rows.len()).collect();
                prop_assert_eq!(
                    repeated_channels(&rows, &stored, &identity),
                    repeated_channels(&rows, &stored, &shuffled(rows.len(), seed))
                );
            }
        }
    }
}
