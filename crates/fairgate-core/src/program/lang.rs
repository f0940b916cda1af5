//! The program language: a TOML file that says who must register and what is asked
//! of them, compiled into a [`ProgramSpec`]. Only the keys listed here compile;
//! anything else is an error with its line and column, a "did you mean" when a key
//! is misspelt, and an explanation when it names a protected attribute (see
//! [`super::protected`]). Compilation is pure and deterministic, so a program's
//! source text in the ledger always compiles to the same rules.

use std::fmt;
use std::ops::Range;

use jiff::civil::Date;
use serde::Serialize;
use toml_edit::{Item, TableLike, Value};

use super::protected::classify;
use super::{Program, ProgramInput};
use crate::stay::StayRule;

/// Every key the language knows, by table. `""` is the top level.
pub const KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "id",
            "title",
            "legal_basis",
            "starts",
            "sunset",
            "notice_days",
            "selection",
            "capture",
            "interview",
            "obligations",
            "stay",
            "retention",
        ],
    ),
    (
        "selection",
        &[
            "admission_class",
            "purpose_of_admission",
            "min_stay_days",
            "admitted_between",
            "min_age",
            "max_age",
            "individually_designated",
        ],
    ),
    ("capture", &["face", "fingerprints", "fingerprints_min_age"]),
    ("interview", &["questions"]),
    ("obligations", &["kind", "within_days", "every_days", "changes"]),
    ("stay", &["rule"]),
    ("retention", &["after_last_exit", "overstayer"]),
];

/// Every key of the language, in any table.
pub fn all_keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().flat_map(|(_, keys)| keys.iter().copied())
}

/// Who must register: every condition present must hold. An empty selection
/// selects everyone who is registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_class: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose_of_admission: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_stay_days: Option<u32>,
    /// From and through, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admitted_between: Option<(Date, Date)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub individually_designated: Option<bool>,
}

impl Selection {
    pub fn uses_age(&self) -> bool {
        self.min_age.is_some() || self.max_age.is_some()
    }
}

/// What is captured at registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Capture {
    pub face: bool,
    pub fingerprints: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprints_min_age: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Interview {
    /// The question template put to every registrant.
    pub questions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObligationKind {
    Register,
    Reregister,
    ReportChange,
    RecordDeparture,
    /// A periodic interview at an office (the 30-day and annual interviews), with
    /// the questions of the program's `[interview]` section.
    Interview,
}

impl ObligationKind {
    pub const ALL: [ObligationKind; 5] = [
        ObligationKind::Register,
        ObligationKind::Reregister,
        ObligationKind::ReportChange,
        ObligationKind::RecordDeparture,
        ObligationKind::Interview,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationKind::Register => "register",
            ObligationKind::Reregister => "reregister",
            ObligationKind::ReportChange => "report-change",
            ObligationKind::RecordDeparture => "record-departure",
            ObligationKind::Interview => "interview",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Address,
    Employer,
    School,
}

impl Change {
    pub const ALL: [Change; 3] = [Change::Address, Change::Employer, Change::School];
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Address => "address",
            Change::Employer => "employer",
            Change::School => "school",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObligationRule {
    pub kind: ObligationKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every_days: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
}

/// A retention period such as `3y`, `18m` or `90d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPeriod {
    pub count: u32,
    /// `y`, `m` or `d`.
    pub unit: char,
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.count, self.unit)
    }
}

impl Serialize for RetentionPeriod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl RetentionPeriod {
    /// The last day data may be kept when the period runs from `from`.
    pub fn after(&self, from: Date) -> Option<Date> {
        use jiff::ToSpan;
        let n = i64::from(self.count);
        match self.unit {
            'y' => from.checked_add(n.years()).ok(),
            'm' => from.checked_add(n.months()).ok(),
            _ => from.checked_add(n.days()).ok(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Retention {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_last_exit: Option<RetentionPeriod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overstayer: Option<RetentionPeriod>,
}

/// A compiled program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramSpec {
    #[serde(flatten)]
    pub program: Program,
    pub selection: Selection,
    pub capture: Capture,
    pub interview: Interview,
    pub obligations: Vec<ObligationRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stay: Option<StayRule>,
    pub retention: Retention,
    /// The least number of days a served notice must leave before a due date
    /// (at least 10; the due date moves out otherwise).
    pub notice_days: u32,
}

impl ProgramSpec {
    /// One line for `program check`.
    pub fn summary(&self) -> String {
        let s = &self.selection;
        let mut who = Vec::new();
        if let Some(c) = &s.admission_class {
            who.push(format!("admission class {}", c.join("/")));
        }
        if let Some(p) = &s.purpose_of_admission {
            who.push(format!("purpose {}", p.join("/")));
        }
        if let Some(n) = s.min_stay_days {
            who.push(format!("stays of {n}+ days"));
        }
        if let Some((a, b)) = s.admitted_between {
            who.push(format!("admitted {a}..{b}"));
        }
        match (s.min_age, s.max_age) {
            (Some(a), Some(b)) => who.push(format!("aged {a}-{b}")),
            (Some(a), None) => who.push(format!("aged {a}+")),
            (None, Some(b)) => who.push(format!("aged up to {b}")),
            _ => {}
        }
        if s.individually_designated == Some(true) {
            who.push("individually designated".into());
        }
        let who = if who.is_empty() { "everyone registered".to_string() } else { who.join(", ") };
        format!(
            "{} ({}): selects {who}; {} obligation(s); runs {} to {}",
            self.program.id,
            self.program.title,
            self.obligations.len(),
            self.program.starts,
            self.program.sunset
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticKind {
    Syntax,
    ProtectedAttribute,
    UnknownKey,
    Invalid,
    Missing,
}

/// One compile error, at a place in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// The dotted key at fault, e.g. `selection.nationality` or `obligations[1].kind`.
    pub key: String,
    pub kind: DiagnosticKind,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Every error found in a program file, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the program does not compile: {}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; "))]
pub struct CompileErrors(pub Vec<Diagnostic>);

/// The largest program file accepted, in bytes.
pub const MAX_SOURCE: usize = 256 * 1024;

/// The most diagnostics one compile reports; past it, one more says how many were
/// left out (a file of thousands of unknown keys gets a short answer, fast).
pub const MAX_DIAGNOSTICS: usize = 100;

struct Compiler<'a> {
    src: &'a str,
    out: Vec<Diagnostic>,
    /// Byte offsets where each line starts, for line and column in O(log n).
    line_starts: Vec<usize>,
    /// Diagnostics past [`MAX_DIAGNOSTICS`], counted, not kept.
    dropped: usize,
}

impl<'a> Compiler<'a> {
    fn new(src: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Compiler { src, out: Vec::new(), line_starts, dropped: 0 }
    }

    /// Every diagnostic, in source order, with the count of those left out.
    fn finish(mut self) -> Vec<Diagnostic> {
        self.out.sort_by_key(|d| (d.line, d.column));
        if self.dropped > 0 {
            let last = self.out.last().map_or(1, |d| d.line);
            self.out.push(Diagnostic {
                line: last,
                column: 1,
                key: String::new(),
                kind: DiagnosticKind::Invalid,
                message: format!(
                    "{} more problems are not shown (only the first {MAX_DIAGNOSTICS} are): fix these and compile again",
                    self.dropped
                ),
            });
        }
        self.out
    }
}

type Span = Option<Range<usize>>;

impl Compiler<'_> {
    fn at(&self, span: &Span) -> (u32, u32) {
        let offset = floor_char(self.src, span.as_ref().map_or(0, |r| r.start).min(self.src.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self.src[start..offset].chars().count() as u32 + 1;
        (line as u32, column)
    }

    fn err(&mut self, span: &Span, key: &str, kind: DiagnosticKind, message: impl Into<String>) {
        if self.out.len() >= MAX_DIAGNOSTICS {
            self.dropped += 1;
            return;
        }
        let (line, column) = self.at(span);
        self.out.push(Diagnostic { line, column, key: key.to_string(), kind, message: message.into() });
    }

    fn invalid(&mut self, span: &Span, key: &str, message: impl fmt::Display) {
        let message = message.to_string();
        let sep = if message.starts_with('`') { ": " } else { " " };
        self.err(span, key, DiagnosticKind::Invalid, format!("`{key}`{sep}{message}"));
    }

    /// Check the keys of one table; returns nothing, reports unknown and protected keys.
    fn keys(&mut self, table: &dyn TableLike, table_name: &str, path: &str) {
        let known = KEYS.iter().find(|(t, _)| *t == table_name).map_or(&[][..], |(_, k)| k);
        for (k, item) in table.iter() {
            if known.contains(&k) {
                // A value that hides tables (e.g. `min_age = { nationality = .. }`) is
                // wrong anyway; still name any protected key inside it.
                self.hidden_protected(item, &join(path, k));
                continue;
            }
            let span = table.get_key_value(k).and_then(|(key, item)| key.span().or_else(|| item.span()));
            let full = join(path, k);
            if let Some(p) = classify(k) {
                self.protected(&span, &full, p);
                continue;
            }
            let table_label =
                if table_name.is_empty() { "the top level".to_string() } else { format!("[{table_name}]") };
            let best = known
                .iter()
                .map(|cand| (strsim::jaro_winkler(&k.to_ascii_lowercase(), cand), cand))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let hint = match best {
                Some((score, cand)) if score >= 0.8 => format!("did you mean `{cand}`?"),
                _ => format!(
                    "the keys of {table_label} are {}",
                    known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            self.err(
                &span,
                &full,
                DiagnosticKind::UnknownKey,
                format!("`{full}` is not a key of {table_label}: {hint}"),
            );
            self.hidden_protected(item, &full);
        }
    }
}

impl Compiler<'_> {
    fn hidden_protected(&mut self, item: &Item, path: &str) {
        let is_table_key = KEYS.iter().any(|(t, _)| *t == path);
        if is_table_key {
            return;
        }
        let mut found: Vec<(Span, String, super::protected::Protected)> = Vec::new();
        fn walk(v: &Item, path: &str, found: &mut Vec<(Span, String, super::protected::Protected)>) {
            if let Some(t) = v.as_table_like() {
                for (k, inner) in t.iter() {
                    let full = format!("{path}.{k}");
                    if let Some(p) = classify(k) {
                        let span = t.get_key_value(k).and_then(|(key, _)| key.span());
                        found.push((span, full.clone(), p));
                    }
                    walk(inner, &full, found);
                }
            } else if let Some(a) = v.as_array() {
                for (i, x) in a.iter().enumerate() {
                    walk(&Item::Value(x.clone()), &format!("{path}[{i}]"), found);
                }
            }
        }
        walk(item, path, &mut found);
        for (span, full, p) in found {
            self.protected(&span, &full, p);
        }
    }

    /// The refusal of a protected attribute: the words, the key, the family and why.
    fn protected(&mut self, span: &Span, full: &str, p: super::protected::Protected) {
        let why = p.why();
        let message = format!(
            "`{full}` is a protected attribute ({}) and no program may use it: Fairgate refuses it because {why}.",
            p.as_str()
        );
        self.err(span, full, DiagnosticKind::ProtectedAttribute, message);
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn span_of(table: &dyn TableLike, k: &str) -> Span {
    table.get_key_value(k).and_then(|(_, item)| item.span())
}

fn key_span(table: &dyn TableLike, k: &str) -> Span {
    table.get_key_value(k).and_then(|(key, _)| key.span())
}

/// Compile a program file. Every error is reported, in source order.
pub fn compile(src: &str) -> Result<ProgramSpec, CompileErrors> {
    let mut c = Compiler::new(src);
    if src.len() > MAX_SOURCE {
        c.err(
            &None,
            "",
            DiagnosticKind::Invalid,
            format!("the file is larger than {} KiB: a program is a short document", MAX_SOURCE / 1024),
        );
        return Err(CompileErrors(c.finish()));
    }
    let doc = match toml_edit::Document::parse(src) {
        Ok(d) => d,
        Err(e) => {
            let msg = e.message().trim().to_string();
            c.err(&e.span(), "", DiagnosticKind::Syntax, format!("this is not valid TOML: {msg}"));
            return Err(CompileErrors(c.finish()));
        }
    };
    let top = doc.as_table();
    c.keys(top, "", "");

    let header = header(&mut c, top);
    let selection = selection(&mut c, top);
    let capture = capture(&mut c, top);
    let interview = interview(&mut c, top);
    let obligations = obligations(&mut c, top);
    if obligations.iter().any(|o| o.kind == ObligationKind::Interview) && interview.questions.is_empty() {
        c.err(
            &span_of(top, "obligations"),
            "interview.questions",
            DiagnosticKind::Missing,
            "`interview.questions` is required when an obligation is an interview: the questions it asks".to_string(),
        );
    }
    let stay = stay(&mut c, top);
    let retention = retention(&mut c, top);
    let notice_days = whole(&mut c, top, "", "notice_days", 10..181, "days").unwrap_or(10);

    if !c.out.is_empty() {
        return Err(CompileErrors(c.finish()));
    }
    match header {
        Some(program) => {
            Ok(ProgramSpec { program, selection, capture, interview, obligations, stay, retention, notice_days })
        }
        None => Err(CompileErrors(vec![])),
    }
}

/// A sub-table, or an error when the key holds something else.
fn sub_table<'t>(c: &mut Compiler<'_>, top: &'t dyn TableLike, name: &str) -> Option<&'t dyn TableLike> {
    let item = top.get(name)?;
    match item.as_table_like() {
        Some(t) => {
            c.keys(t, name, name);
            Some(t)
        }
        None => {
            c.invalid(
                &span_of(top, name),
                name,
                format!("must be a table: write it as `[{name}]` followed by its keys"),
            );
            None
        }
    }
}

fn string(c: &mut Compiler<'_>, t: &dyn TableLike, path: &str, k: &str) -> Option<String> {
    let item = t.get(k)?;
    match item.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            c.invalid(&span_of(t, k), &join(path, k), "must be a string in quotes");
            None
        }
    }
}

fn date_value(v: &Value) -> Option<Result<Date, ()>> {
    match v {
        Value::Datetime(d) => {
            let d = d.value();
            Some(match (d.date, d.time) {
                (Some(date), None) => Date::new(date.year as i16, date.month as i8, date.day as i8).map_err(|_| ()),
                _ => Err(()),
            })
        }
        Value::String(s) => Some(crate::error::parse_date("", s.value()).map_err(|_| ())),
        _ => Some(Err(())),
    }
}

fn date(c: &mut Compiler<'_>, t: &dyn TableLike, path: &str, k: &str) -> Option<Option<Date>> {
    let item = t.get(k)?;
    let full = join(path, k);
    match item.as_value().and_then(date_value) {
        Some(Ok(d)) => Some(Some(d)),
        _ => {
            c.invalid(&span_of(t, k), &full, "must be a calendar date, written as YYYY-MM-DD");
            Some(None)
        }
    }
}

fn whole(c: &mut Compiler<'_>, t: &dyn TableLike, path: &str, k: &str, range: Range<i64>, what: &str) -> Option<u32> {
    let item = t.get(k)?;
    match item.as_integer() {
        Some(n) if range.contains(&n) => Some(n as u32),
        _ => {
            c.invalid(
                &span_of(t, k),
                &join(path, k),
                format!("must be a whole number of {what} from {} to {}", range.start, range.end - 1),
            );
            None
        }
    }
}

fn boolean(c: &mut Compiler<'_>, t: &dyn TableLike, path: &str, k: &str) -> Option<bool> {
    let item = t.get(k)?;
    match item.as_bool() {
        Some(b) => Some(b),
        None => {
            c.invalid(&span_of(t, k), &join(path, k), "must be true or false");
            None
        }
    }
}

/// A non-empty list of short codes, each checked by `ok`.
fn codes(
    c: &mut Compiler<'_>,
    t: &dyn TableLike,
    path: &str,
    k: &str,
    ok: impl Fn(&str) -> bool,
    shape: &str,
) -> Option<Vec<String>> {
    let item = t.get(k)?;
    let full = join(path, k);
    let Some(arr) = item.as_array() else {
        c.invalid(&span_of(t, k), &full, format!("must be a list in square brackets, e.g. {shape}"));
        return None;
    };
    if arr.is_empty() {
        c.invalid(&span_of(t, k), &full, "must list at least one value; leave the key out to select regardless");
        return None;
    }
    let mut out = Vec::new();
    for (i, v) in arr.iter().enumerate() {
        match v.as_str() {
            Some(s) if ok(s.trim()) => out.push(s.trim().to_string()),
            _ => c.invalid(
                &v.span(),
                &format!("{full}[{i}]"),
                format!("is not a valid value: write values like {shape}"),
            ),
        }
    }
    Some(out)
}

fn header(c: &mut Compiler<'_>, top: &dyn TableLike) -> Option<Program> {
    let id = string(c, top, "", "id");
    let title = string(c, top, "", "title");
    let legal_basis = string(c, top, "", "legal_basis");
    let starts = date(c, top, "", "starts");
    let sunset = date(c, top, "", "sunset");
    let input = ProgramInput {
        id: id.clone().unwrap_or_default(),
        title: title.clone().unwrap_or_default(),
        legal_basis: legal_basis.clone().unwrap_or_default(),
        starts: starts.flatten().map(|d| d.to_string()).unwrap_or_default(),
        sunset: sunset.flatten().map(|d| d.to_string()),
    };
    let present = [
        ("id", id.is_some()),
        ("title", title.is_some()),
        ("legal_basis", legal_basis.is_some()),
        ("starts", starts.is_some()),
        ("sunset", sunset.is_some()),
    ];
    let mut ok = true;
    for (k, here) in present {
        if !here {
            ok = false;
            let msg = match k {
                "sunset" => format!("`sunset` is required: every program ends, at most {} years after it starts; add e.g. `sunset = 2030-12-31`", super::MAX_YEARS),
                "starts" => "`starts` is required: add the first day the program is in force, e.g. `starts = 2027-01-01`".to_string(),
                _ => format!("`{k}` is required: add it at the top of the file"),
            };
            c.err(&Some(0..0), k, DiagnosticKind::Missing, msg);
        }
    }
    // A present but malformed date was already reported.
    if starts == Some(None) || sunset == Some(None) {
        ok = false;
    }
    match input.validate() {
        Ok(p) if ok => Some(p),
        Ok(_) => None,
        Err(e) => {
            for fe in e.0 {
                let k = fe.field.as_str();
                // Missing values were reported above; only report problems with values written.
                let malformed = (k == "starts" && starts == Some(None)) || (k == "sunset" && sunset == Some(None));
                let written = present.iter().any(|(name, here)| *name == k && *here) && !malformed;
                if written {
                    let span = span_of(top, k);
                    c.invalid(&span, k, &fe.message);
                }
            }
            None
        }
    }
}

fn selection(c: &mut Compiler<'_>, top: &dyn TableLike) -> Selection {
    let mut s = Selection::default();
    let Some(t) = sub_table(c, top, "selection") else {
        if top.get("selection").is_none() {
            c.err(
                &Some(0..0),
                "selection",
                DiagnosticKind::Missing,
                "`[selection]` is required: say who must register (an empty table selects everyone registered)",
            );
        }
        return s;
    };
    let p = "selection";
    s.admission_class = codes(
        c,
        t,
        p,
        "admission_class",
        |v| (1..=16).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/'),
        "[\"WT\", \"B-2\"]",
    )
    .map(|v| v.into_iter().map(|x| x.to_ascii_uppercase()).collect());
    s.purpose_of_admission = codes(
        c,
        t,
        p,
        "purpose_of_admission",
        |v| (1..=40).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "[\"tourism\", \"business\"]",
    );
    s.min_stay_days = whole(c, t, p, "min_stay_days", 1..3651, "days");
    if let Some(item) = t.get("admitted_between") {
        let full = "selection.admitted_between";
        let dates: Option<Vec<Date>> =
            item.as_array().map(|a| a.iter().filter_map(|v| date_value(v).and_then(Result::ok)).collect());
        match (dates, item.as_array().map(|a| a.len())) {
            (Some(d), Some(2)) if d.len() == 2 && d[0] <= d[1] => s.admitted_between = Some((d[0], d[1])),
            _ => c.invalid(
                &span_of(t, "admitted_between"),
                full,
                "must be two dates, the first no later than the second, e.g. [2027-01-01, 2027-12-31]",
            ),
        }
    }
    s.min_age = whole(c, t, p, "min_age", 0..121, "years");
    s.max_age = whole(c, t, p, "max_age", 0..121, "years");
    if let (Some(a), Some(b)) = (s.min_age, s.max_age) {
        if a > b {
            c.invalid(&span_of(t, "max_age"), "selection.max_age", format!("must not be below `min_age` ({a})"));
        }
    }
    s.individually_designated = boolean(c, t, p, "individually_designated");
    s
}

fn capture(c: &mut Compiler<'_>, top: &dyn TableLike) -> Capture {
    let mut out = Capture::default();
    let Some(t) = sub_table(c, top, "capture") else { return out };
    out.face = boolean(c, t, "capture", "face").unwrap_or(false);
    out.fingerprints = whole(c, t, "capture", "fingerprints", 0..11, "fingers").unwrap_or(0) as u8;
    out.fingerprints_min_age = whole(c, t, "capture", "fingerprints_min_age", 0..121, "years");
    if out.fingerprints_min_age.is_some() && out.fingerprints == 0 {
        c.invalid(
            &key_span(t, "fingerprints_min_age"),
            "capture.fingerprints_min_age",
            "applies only when `fingerprints` is more than 0",
        );
    }
    out
}

fn interview(c: &mut Compiler<'_>, top: &dyn TableLike) -> Interview {
    let mut out = Interview::default();
    let Some(t) = sub_table(c, top, "interview") else { return out };
    let Some(item) = t.get("questions") else { return out };
    let Some(arr) = item.as_array() else {
        c.invalid(&span_of(t, "questions"), "interview.questions", "must be a list of questions in quotes");
        return out;
    };
    for (i, v) in arr.iter().enumerate() {
        match v.as_str().map(|q| crate::error::text("", q, 500, true)) {
            Some(Ok(q)) => out.questions.push(q),
            Some(Err(e)) => c.invalid(&v.span(), &format!("interview.questions[{i}]"), &e.message),
            None => c.invalid(&v.span(), &format!("interview.questions[{i}]"), "must be a question in quotes"),
        }
    }
    if out.questions.len() > 50 {
        c.invalid(
            &span_of(t, "questions"),
            "interview.questions",
            "has more than 50 questions: keep the interview short",
        );
    }
    out
}

fn obligations(c: &mut Compiler<'_>, top: &dyn TableLike) -> Vec<ObligationRule> {
    let mut out = Vec::new();
    let Some(item) = top.get("obligations") else { return out };
    let tables: Vec<(&dyn TableLike, Span)> = match item {
        Item::ArrayOfTables(a) => a.iter().map(|t| (t as &dyn TableLike, t.span())).collect(),
        Item::Value(Value::Array(a)) if a.iter().all(|v| v.as_inline_table().is_some()) => {
            a.iter().filter_map(|v| v.as_inline_table().map(|t| (t as &dyn TableLike, v.span()))).collect()
        }
        _ => {
            c.invalid(
                &span_of(top, "obligations"),
                "obligations",
                "must be a list of tables, each written as `[[obligations]]`",
            );
            return out;
        }
    };
    for (i, (t, span)) in tables.into_iter().enumerate() {
        let path = format!("obligations[{i}]");
        c.keys(t, "obligations", &path);
        let kind = match t.get("kind").map(|k| k.as_str()) {
            None => {
                c.err(
                    &span,
                    &format!("{path}.kind"),
                    DiagnosticKind::Missing,
                    format!("`{path}.kind` is required: one of register, reregister, report-change, record-departure, interview"),
                );
                None
            }
            Some(k) => match ObligationKind::ALL.into_iter().find(|o| Some(o.as_str()) == k) {
                Some(o) => Some(o),
                None => {
                    c.invalid(
                        &span_of(t, "kind"),
                        &format!("{path}.kind"),
                        "must be one of register, reregister, report-change, record-departure, interview",
                    );
                    None
                }
            },
        };
        let within_days = whole(c, t, &path, "within_days", 0..3651, "days");
        let every_days = whole(c, t, &path, "every_days", 1..3651, "days");
        let mut changes = Vec::new();
        if t.get("changes").is_some() {
            let list = codes(
                c,
                t,
                &path,
                "changes",
                |v| Change::ALL.iter().any(|ch| ch.as_str() == v),
                "[\"address\", \"employer\", \"school\"]",
            );
            for v in list.unwrap_or_default() {
                if let Some(ch) = Change::ALL.into_iter().find(|ch| ch.as_str() == v) {
                    if !changes.contains(&ch) {
                        changes.push(ch);
                    }
                }
            }
        }
        let Some(kind) = kind else { continue };
        let needs = |c: &mut Compiler<'_>, k: &str, what: &str| {
            c.err(
                &span,
                &format!("{path}.{k}"),
                DiagnosticKind::Missing,
                format!("`{path}.{k}` is required for a {} obligation: {what}", kind.as_str()),
            );
        };
        let refuses = |c: &mut Compiler<'_>, k: &str| {
            c.invalid(
                &key_span(t, k),
                &format!("{path}.{k}"),
                format!("does not apply to a {} obligation: remove it", kind.as_str()),
            );
        };
        match kind {
            ObligationKind::Reregister | ObligationKind::Interview => {
                if every_days.is_none() && t.get("every_days").is_none() {
                    needs(c, "every_days", "how often, in days");
                }
                if t.get("changes").is_some() {
                    refuses(c, "changes");
                }
            }
            ObligationKind::ReportChange => {
                if within_days.is_none() && t.get("within_days").is_none() {
                    needs(c, "within_days", "how many days a person has to report");
                }
                if t.get("changes").is_none() {
                    needs(c, "changes", "which changes, from address, employer, school");
                }
                if t.get("every_days").is_some() {
                    refuses(c, "every_days");
                }
            }
            ObligationKind::Register | ObligationKind::RecordDeparture => {
                if within_days.is_none() && t.get("within_days").is_none() {
                    needs(c, "within_days", "how many days a person has");
                }
                for k in ["every_days", "changes"] {
                    if t.get(k).is_some() {
                        refuses(c, k);
                    }
                }
            }
        }
        out.push(ObligationRule { kind, within_days, every_days, changes });
    }
    out
}

fn stay(c: &mut Compiler<'_>, top: &dyn TableLike) -> Option<StayRule> {
    let t = sub_table(c, top, "stay")?;
    let rule = string(c, t, "stay", "rule")?;
    if rule == "admitted-until" {
        return Some(StayRule::AdmittedUntil);
    }
    let parsed =
        rule.split_once('/').and_then(|(a, b)| Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((max_days, window)) if max_days >= 1 && max_days < window && window <= 3650 => {
            Some(StayRule::Rolling { max_days, window })
        }
        _ => {
            c.invalid(
                &span_of(t, "rule"),
                "stay.rule",
                "must be \"N/M\" (N days in any M days, N < M, e.g. \"90/180\") or \"admitted-until\"",
            );
            None
        }
    }
}

fn retention(c: &mut Compiler<'_>, top: &dyn TableLike) -> Retention {
    let mut out = Retention::default();
    let Some(t) = sub_table(c, top, "retention") else { return out };
    for k in ["after_last_exit", "overstayer"] {
        let Some(s) = string(c, t, "retention", k) else { continue };
        let s = s.trim();
        let unit = s.chars().last().unwrap_or(' ');
        let count = s[..s.len() - unit.len_utf8().min(s.len())].parse::<u32>().ok();
        match (count, unit) {
            (Some(n), 'y' | 'm' | 'd') if (1..=100).contains(&n) || (unit != 'y' && (1..=3650).contains(&n)) => {
                let p = Some(RetentionPeriod { count: n, unit });
                if k == "after_last_exit" {
                    out.after_last_exit = p;
                } else {
                    out.overstayer = p;
                }
            }
            _ => c.invalid(
                &span_of(t, k),
                &format!("retention.{k}"),
                "must be a period such as \"3y\", \"18m\" or \"90d\"",
            ),
        }
    }
    out
}
