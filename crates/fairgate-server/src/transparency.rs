//! The public transparency report: non-identifying aggregates of data use and
//! activity, the programs in force, and the log state they were computed at. Cells
//! under 10 are suppressed by the core's rule. Served as JSON, as CSV per table, and
//! as an HTML page whose charts are SVG drawn on the server (no script needed).

use crate::json::Path;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use fairgate_core::report::{publish, published_monthly_totals, Cell, Metric, MIN_CELL};
use maud::{html, Markup, PreEscaped};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::blocking;
use crate::problem::Problem;
use crate::programs::ProgramView;
use crate::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Table {
    /// What is counted.
    pub metric: String,
    /// The names of the `dims` of each cell.
    pub dimensions: Vec<String>,
    /// One per (dimensions, month). `count` is null when under `min_cell`.
    #[schema(value_type = Vec<Object>)]
    pub cells: Vec<CellView>,
    /// Whether anyone can recompute this table from the public log alone.
    pub recomputable_from_log: bool,
    /// For a table computed once a day rather than tallied from the log: the day it
    /// describes (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

/// The overstay table of one day, as cached in [`AppState::overstay_report`].
#[derive(Debug, Clone)]
pub struct DailyTable {
    pub on: jiff::civil::Date,
    pub table: Table,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellView {
    pub dims: Vec<String>,
    pub month: String,
    pub count: Option<u64>,
}

impl From<Cell> for CellView {
    fn from(c: Cell) -> Self {
        Self { dims: c.dims, month: c.month, count: c.count }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub generated_at: String,
    /// The tree size the figures were computed at, and the latest signed checkpoint.
    pub tree_size: u64,
    pub checkpoint: Option<String>,
    /// Cells with a count under this are published as null.
    pub min_cell: u64,
    pub data_use: Table,
    pub registrations: Table,
    pub crossings: Table,
    pub log_events: Table,
    /// Overstays on the report's day, by port of entry, rule and the month the
    /// overstay began. Computed once a day by the overstay sweep.
    pub overstays: Table,
    /// Registrations, crossings, designations and overstays of the people each
    /// program selects, by program, place and month. Computed once a day.
    pub program_activity: Table,
    /// Individual designations by place and reason, in the month they were made.
    pub designations: Table,
    /// Expungement certificates issued, by scope and month (the certificates
    /// themselves are at /expungements).
    pub expungements: Table,
    /// Office visits by office, ISO week and measure (served, sent elsewhere,
    /// appointments missed, wait bands), in the month they happened.
    pub desk_queue: Table,
    /// The same per office and week: people served, sent elsewhere, appointments
    /// missed, and the median and 95th-percentile wait (as the upper bound of their
    /// band), small cells suppressed.
    #[schema(value_type = Vec<Object>)]
    pub desk_weeks: Vec<fairgate_core::appointment::DeskWeek>,
    pub programs: Vec<ProgramView>,
    /// Emergency law-enforcement accesses not reviewed by an approver within 7 days
    /// (each such grant has ended by itself).
    pub overdue_emergency_reviews: u64,
    /// Figures Fairgate does not produce yet, named so their absence is visible.
    pub not_yet_reported: Vec<String>,
}

fn table(st: &AppState, metric: Metric) -> Result<Table, Problem> {
    let raw = st.registry.tallies(metric).map_err(Problem::from)?;
    Ok(Table {
        metric: metric.as_str().to_string(),
        dimensions: metric.dimensions().iter().map(|d| d.to_string()).collect(),
        cells: publish(metric, raw).into_iter().map(Into::into).collect(),
        recomputable_from_log: metric == Metric::LogEvents,
        as_of: None,
    })
}

/// A table computed once a day from the sealed records (overstays, activity by program).
fn daily_table(st: &AppState, metric: Metric, on: jiff::civil::Date) -> Result<Table, Problem> {
    let raw = match metric {
        Metric::ProgramActivity => st.registry.program_activity(on),
        _ => st.registry.overstay_tallies(on),
    }
    .map_err(Problem::from)?;
    Ok(Table {
        metric: metric.as_str().to_string(),
        dimensions: metric.dimensions().iter().map(|d| d.to_string()).collect(),
        cells: publish(metric, raw).into_iter().map(Into::into).collect(),
        recomputable_from_log: false,
        as_of: Some(on.to_string()),
    })
}

/// Today's table of a daily metric: from the cache, or computed once for the day
/// while every other reader waits for it.
async fn daily_today(st: &AppState, metric: Metric) -> Result<Table, Problem> {
    let today = st.today();
    let cache = match metric {
        Metric::ProgramActivity => &st.program_activity_report,
        _ => &st.overstay_report,
    };
    let mut cached = cache.lock().await;
    if let Some(c) = cached.as_ref().filter(|c| c.on == today) {
        return Ok(c.table.clone());
    }
    let s = st.clone();
    let table = blocking(move || daily_table(&s, metric, today)).await?;
    *cached = Some(DailyTable { on: today, table: table.clone() });
    Ok(table)
}

async fn overstays_today(st: &AppState) -> Result<Table, Problem> {
    daily_today(st, Metric::Overstays).await
}

/// Recompute the overstay table when the day has turned since it was last asked
/// for; nothing happens before anyone has asked.
pub(crate) async fn refresh_overstays(st: &AppState) {
    for (metric, cache) in
        [(Metric::Overstays, &st.overstay_report), (Metric::ProgramActivity, &st.program_activity_report)]
    {
        let stale = cache.lock().await.as_ref().is_some_and(|c| c.on != st.today());
        if stale {
            if let Err(e) = daily_today(st, metric).await {
                tracing::error!(error = %e.detail, table = metric.as_str(), "could not compute a daily public table");
            }
        }
    }
}

fn build(st: &AppState, overstays: Table, program_activity: Table) -> Result<Report, Problem> {
    let now = st.now();
    let (tree_size, _) = st.registry.tree_head().map_err(Problem::from)?;
    let checkpoint = st.registry.checkpoint(None).map_err(Problem::from)?.map(|c| c.note);
    let programs = crate::programs::all_views(st, &st.registry.program_book().map_err(Problem::from)?);
    Ok(Report {
        generated_at: now.round(jiff::Unit::Second).unwrap_or(now).to_string(),
        tree_size,
        checkpoint,
        min_cell: MIN_CELL,
        data_use: table(st, Metric::DataUse)?,
        registrations: table(st, Metric::Registrations)?,
        crossings: table(st, Metric::Crossings)?,
        log_events: table(st, Metric::LogEvents)?,
        overstays,
        program_activity,
        designations: table(st, Metric::Designations)?,
        expungements: table(st, Metric::Expungements)?,
        desk_queue: table(st, Metric::DeskQueue)?,
        desk_weeks: fairgate_core::appointment::desk_weeks(
            &st.registry.tallies(Metric::DeskQueue).map_err(Problem::from)?,
        ),
        programs,
        overdue_emergency_reviews: st.registry.overdue_emergency_reviews(now).map_err(Problem::from)?,
        not_yet_reported: vec![],
    })
}

/// The transparency report as JSON. Public: aggregates only, small cells suppressed.
#[utoipa::path(get, path = "/transparency.json", tag = "transparency", responses((status = 200, body = Report)))]
pub async fn report_json(State(st): State<AppState>) -> Result<Json<Report>, Problem> {
    let overstays = overstays_today(&st).await?;
    let activity = daily_today(&st, Metric::ProgramActivity).await?;
    Ok(Json(blocking(move || build(&st, overstays, activity)).await?))
}

use fairgate_core::report::csv_cell as csv_field;

/// One table of the report as CSV: its dimensions, `month`, `count` (empty when
/// suppressed) and `suppressed`.
#[utoipa::path(get, path = "/transparency/{file}", tag = "transparency",
    params(("file" = String, Path, description = "data-use.csv, registrations.csv, crossings.csv, log-events.csv, overstays.csv, program-activity.csv, designations.csv, expungements.csv or desk-queue.csv")),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 404, body = Problem)))]
pub async fn report_csv(State(st): State<AppState>, Path(file): Path<String>) -> Result<impl IntoResponse, Problem> {
    let metric = file.strip_suffix(".csv").and_then(Metric::parse).ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "No such table",
            "the tables are data-use.csv, registrations.csv, crossings.csv, log-events.csv, overstays.csv, program-activity.csv, designations.csv, expungements.csv and desk-queue.csv",
        )
        .with_errors(vec![fairgate_core::FieldError::new("file", "is not one of the report's tables")])
    })?;
    let t = match metric {
        Metric::Overstays | Metric::ProgramActivity => daily_today(&st, metric).await?,
        _ => blocking(move || table(&st, metric)).await?,
    };
    let mut out = String::new();
    for d in &t.dimensions {
        out.push_str(d);
        out.push(',');
    }
    out.push_str("month,count,suppressed\r\n");
    for c in &t.cells {
        for d in &c.dims {
            out.push_str(&csv_field(d));
            out.push(',');
        }
        let count = c.count.map(|n| n.to_string()).unwrap_or_default();
        out.push_str(&format!("{},{count},{}\r\n", c.month, c.count.is_none()));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"fairgate-{file}\"")),
        ],
        out,
    ))
}

/// The p95 wait per office and day of a capacity plan, as written (solid) and as
/// phased (dashed, when the plan proposes a schedule), as an SVG string.
pub fn wait_chart(plan: &fairgate_core::plan::Plan) -> String {
    let mut svg = String::new();
    let mut all: Vec<&fairgate_core::plan::DayPlan> = plan.days.iter().collect();
    if let Some(p) = &plan.proposal {
        all.extend(p.days.iter());
    }
    let (Some(first), Some(last)) = (all.iter().map(|d| d.day).min(), all.iter().map(|d| d.day).max()) else {
        return svg;
    };
    let span = (last - first).get_days().max(1) as f64;
    let max = all.iter().map(|d| d.wait_p95_minutes).fold(60.0, f64::max);
    let offices: std::collections::BTreeSet<&str> = all.iter().map(|d| d.office.as_str()).collect();
    let colours = [
        RGBColor(0, 94, 162),
        RGBColor(216, 57, 51),
        RGBColor(0, 135, 90),
        RGBColor(112, 48, 160),
        RGBColor(230, 130, 0),
    ];
    {
        let root = SVGBackend::with_string(&mut svg, (760, 320)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption("p95 wait by office and day (minutes): as written, and phased (dashed)", ("sans-serif", 15))
                .margin(12)
                .x_label_area_size(34)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..span, 0f64..max * 1.1)?;
            chart.configure_mesh().x_desc(format!("days from {first}")).y_desc("minutes").draw()?;
            let at = |d: &fairgate_core::plan::DayPlan| ((d.day - first).get_days() as f64, d.wait_p95_minutes);
            for (i, office) in offices.iter().enumerate() {
                let colour = colours[i % colours.len()];
                let written: Vec<(f64, f64)> = plan.days.iter().filter(|d| d.office == *office).map(at).collect();
                chart
                    .draw_series(LineSeries::new(written, colour.stroke_width(2)))?
                    .label(office.to_string())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
                if let Some(p) = &plan.proposal {
                    let phased: Vec<(f64, f64)> = p.days.iter().filter(|d| d.office == *office).map(at).collect();
                    chart.draw_series(DashedLineSeries::new(phased, 6, 4, colour.stroke_width(1)))?;
                }
            }
            chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
            root.present()?;
            Ok(())
        })();
        if let Err(e) = drawn {
            tracing::warn!(error = %e, "chart could not be drawn");
        }
    }
    svg
}

/// A bar chart of monthly totals, as an SVG string.
fn bar_chart(title: &str, series: &[(String, u64)]) -> String {
    let mut svg = String::new();
    if series.is_empty() {
        return svg;
    }
    {
        let root = SVGBackend::with_string(&mut svg, (720, 280)).into_drawing_area();
        let max = series.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
        let labels: Vec<String> = series.iter().map(|(m, _)| m.clone()).collect();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(34)
                .y_label_area_size(56)
                .build_cartesian_2d((0u32..series.len() as u32).into_segmented(), 0u64..(max + max / 10 + 1))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(series.len().min(12))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .draw()?;
            chart.draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(0, 94, 162).filled())
                    .margin(4)
                    .data(series.iter().enumerate().map(|(i, (_, n))| (i as u32, *n))),
            )?;
            root.present()?;
            Ok(())
        })();
        if let Err(e) = drawn {
            tracing::warn!(error = %e, "chart could not be drawn");
        }
    }
    svg
}

fn table_html(t: &Table) -> Markup {
    html! {
        table {
            thead { tr { @for d in &t.dimensions { th scope="col" { (d) } } th scope="col" { "month" } th scope="col" { "count" } } }
            tbody {
                @for c in &t.cells {
                    tr {
                        @for d in &c.dims { td { (d) } }
                        td { (c.month) }
                        td { @match c.count { Some(n) => (n), None => abbr title="suppressed: fewer than 10" { "<10" } } }
                    }
                }
            }
        }
    }
}

fn section(title: &str, what: &str, t: &Table) -> Markup {
    let cells: Vec<Cell> =
        t.cells.iter().map(|c| Cell { dims: c.dims.clone(), month: c.month.clone(), count: c.count }).collect();
    let totals = published_monthly_totals(&cells);
    let chart = bar_chart(&format!("{title}, published cells per month"), &totals);
    html! {
        section {
            h2 { (title) }
            p { (what) " " a href={ "/transparency/" (t.metric) ".csv" } { "Download CSV" } "." }
            @if t.cells.is_empty() { p { "Nothing recorded yet." } } @else {
                figure role="img" aria-label={ (title) ": bar chart of monthly totals of published cells" } { (PreEscaped(chart)) }
                details { summary { "All cells" } (table_html(t)) }
            }
        }
    }
}

/// The report as a web page.
pub async fn report_page(State(st): State<AppState>) -> Result<Markup, Problem> {
    let overstays = overstays_today(&st).await?;
    let activity = daily_today(&st, Metric::ProgramActivity).await?;
    let r = blocking(move || build(&st, overstays, activity)).await?;
    Ok(crate::views::page(
        "Transparency report",
        html! {
            h1 { "Transparency report" }
            p { "Aggregates of how Fairgate is used, computed from its log at " (r.tree_size) " leaves on " (r.generated_at) ". "
                "Cells under " (r.min_cell) " are suppressed (shown as <10), and charts add up published cells only, so no suppressed figure can be recovered. "
                "The same figures as " a href="/transparency.json" { "JSON" } "; how to check them: " a href="/log/checkpoint" { "the signed checkpoint" } "." }
            h2 { "Programs" }
            @if r.programs.is_empty() { p { "No program has been put in force." } } @else {
                table {
                    thead { tr { th { "program" } th { "legal basis" } th { "starts" } th { "sunset" } th { "status" } th { "sign-offs and repeal" } } }
                    tbody { @for p in &r.programs { tr {
                        td { (p.title) " (" (p.id) " v" (p.version) ")" } td { (p.legal_basis) } td { (p.starts) } td { (p.sunset) } td { (p.status) }
                        td {
                            @for d in &p.sign_offs { p { "Signed off by " (d.by) " (" (d.role) ", " (d.agency) ") on " (d.at.get(..10).unwrap_or(&d.at)) ": " (d.reason) } }
                            @if let Some(d) = &p.repealed { p { "Repealed by " (d.by) " on " (d.at.get(..10).unwrap_or(&d.at)) ": " (d.reason) } }
                        }
                    } } }
                }
            }
            (section("Use of personal data", "Every read of personal data, by the reader's agency, role and stated purpose.", &r.data_use))
            (section("Registrations", "Registrations by place and kind.", &r.registrations))
            (section("Crossings", "Entries and exits by port.", &r.crossings))
            (section("Overstays", &format!("People with an overstay on record on {}, by the port of entry of the stay in which it began, the stay rule, and the month it began. Recomputed once a day.", r.overstays.as_of.as_deref().unwrap_or("today")), &r.overstays))
            (section("Activity by program", "Registrations, crossings, individual designations and overstays of the people each program selects, while it selects them, by program and port or office. Recomputed once a day.", &r.program_activity))
            (section("Individual designations", "Designations of one person for closer monitoring, by the place and the reason category. Designation rates per officer, by nationality and sex, are watched by auditors.", &r.designations))
            (section("Expungement certificates", "Erasures carried out, by scope (one person, or a repealed program's records) and month. Each certificate is listed at /expungements and can be checked against the log.", &r.expungements))
            h2 { "Office visits" }
            p { "People served at each office per ISO week, sent to another office, appointments missed, and the median and 95th-percentile wait from arrival (or from the slot's start, for someone who came early) to being called, as the upper bound of a band. Counts under " (r.min_cell) " are suppressed, and so are waits when fewer than " (r.min_cell) " were measured." }
            @if r.desk_weeks.is_empty() { p { "No office visit has been recorded." } } @else {
                table {
                    thead { tr { th { "office" } th { "week" } th { "served" } th { "sent elsewhere" } th { "appointments missed" } th { "median wait (min)" } th { "p95 wait (min)" } } }
                    tbody { @for w in &r.desk_weeks { tr {
                        td { (w.office) } td { (w.week) }
                        td { (w.served.map_or("<10".to_string(), |n| n.to_string())) }
                        td { (w.sent_elsewhere.map_or("<10".to_string(), |n| n.to_string())) }
                        td { (w.appointments_missed.map_or("<10".to_string(), |n| n.to_string())) }
                        td { (w.wait_median.as_deref().unwrap_or("suppressed")) }
                        td { (w.wait_p95.as_deref().unwrap_or("suppressed")) }
                    } } }
                }
            }
            (section("Log events", "Leaves by event kind and the month they were recorded. Anyone can recompute this table from the clear leaf headers at /log/leaves.", &r.log_events))
            @if !r.not_yet_reported.is_empty() {
                h2 { "Not reported yet" }
                ul { @for n in &r.not_yet_reported { li { (n) } } }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn the_overstay_table_is_computed_on_first_request_and_renewed_when_the_day_turns() {
        let dir = tempfile::tempdir().unwrap();
        let store = fairgate_store::backend::test_store(&dir.path().join("f.db")).unwrap().store();
        let key = fairgate_ledger::keys::SecretKey::from_bytes;
        fairgate_store::LedgerStore::put_places(&*store, &fairgate_core::place::default_places()).unwrap();
        let registry = fairgate_store::Registry::open(store, key([1; 32]), &key([2; 32]), "t/log", [3; 32]).unwrap();
        let mut st = AppState::new(Arc::new(registry));
        let secs = Arc::new(AtomicI64::new(1_795_000_000)); // 2026-11-18
        let now = secs.clone();
        st.clock = Arc::new(move || jiff::Timestamp::from_second(now.load(Ordering::SeqCst)).unwrap());
        let day = |st: &AppState| st.today();
        let first = day(&st);

        refresh_overstays(&st).await;
        assert!(st.overstay_report.lock().await.is_none(), "nothing is swept before anyone asks");
        let t = overstays_today(&st).await.unwrap();
        assert_eq!(t.as_of, Some(first.to_string()));

        secs.fetch_add(3600, Ordering::SeqCst);
        refresh_overstays(&st).await;
        assert_eq!(st.overstay_report.lock().await.as_ref().map(|c| c.on), Some(first), "same day: kept");
        secs.fetch_add(86_400, Ordering::SeqCst);
        refresh_overstays(&st).await;
        let renewed = st.overstay_report.lock().await.as_ref().map(|c| (c.on, c.table.as_of.clone()));
        assert_eq!(renewed, Some((day(&st), Some(day(&st).to_string()))));
        assert_ne!(day(&st), first);
    }
}
