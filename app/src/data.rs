//! `/datasets` (what the caller may read, with each one's columns) and `/query` (one SELECT over
//! them, with the answer as a grid).

use crate::api::{RunQuery, list_datasets};
use crate::layout::{LocalTime, Page};
use da_types::{QUERY_LIMIT_DEFAULT, QueryResult};
use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::prelude::*;

use da_types::human_size as size;

#[component]
pub fn DatasetsPage() -> impl IntoView {
    view! {
        <Page title="Datasets">
            <DatasetsList />
        </Page>
    }
}

#[component]
fn DatasetsList() -> impl IntoView {
    let datasets = Resource::new(|| (), |_| list_datasets());
    view! {
        <h1>"Datasets"</h1>
        <p class="muted">"The datasets you may read. Query them on "<a href="/query">"Query"</a>
            ", or download them with "<code>"da sync"</code>"."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || datasets.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! {
                    <p class="muted" data-test="no-datasets">"No datasets you may read yet."</p>
                }.into_any(),
                Ok(list) => list.into_iter().map(|d| view! {
                    <section class="card dataset" data-test="dataset" data-name=d.name.clone()>
                        <h2><code>{d.name.clone()}</code></h2>
                        {(!d.description.is_empty()).then(|| view! { <p>{d.description.clone()}</p> })}
                        <p class="muted small" data-test="dataset-facts">
                            {format!("{} · {} rows · {} · updated ", d.format.as_str(), d.rows, size(d.size_bytes))}
                            <LocalTime at=d.updated_at />
                        </p>
                        <details>
                            <summary>{format!("{} columns", d.columns.len())}</summary>
                            <table class="grid small" data-test="dataset-columns">
                                <thead><tr><th>"Column"</th><th>"Type"</th></tr></thead>
                                <tbody>{d.columns.iter().map(|c| view! {
                                    <tr><td><code>{c.name.clone()}</code></td><td>{c.data_type.clone()}</td></tr>
                                }).collect_view()}</tbody>
                            </table>
                        </details>
                    </section>
                }).collect_view().into_any(),
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
pub fn QueryPage() -> impl IntoView {
    view! {
        <Page title="Query">
            <QueryScreen />
        </Page>
    }
}

#[component]
fn QueryScreen() -> impl IntoView {
    let run = ServerAction::<RunQuery>::new();
    let sql = NodeRef::<leptos::html::Textarea>::new();
    let go = move || {
        let text = sql.get().map(|el| el.value()).unwrap_or_default();
        if !text.trim().is_empty() {
            run.dispatch(RunQuery {
                sql: text,
                limit: QUERY_LIMIT_DEFAULT,
            });
        }
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        go();
    };
    // Ctrl+Enter (or Cmd+Enter) runs, as in every SQL editor.
    let keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            go();
        }
    };
    let datasets = Resource::new(|| (), |_| list_datasets());
    view! {
        <h1>"Query"</h1>
        <form class="card stack wide" on:submit=submit data-test="query-form">
            <label for="sql">"One SELECT over your datasets, each a table of its name"</label>
            <textarea id="sql" class="sql" rows="8" spellcheck="false" node_ref=sql data-test="query-sql"
                placeholder="SELECT region, sum(amount) FROM sales GROUP BY region" on:keydown=keydown></textarea>
            <div class="buttons">
                <button type="submit" class="primary" disabled=move || run.pending().get() data-test="query-run">
                    {move || if run.pending().get() { "Running…" } else { "Run" }}
                </button>
                <span class="muted small">"Ctrl+Enter runs it"</span>
            </div>
            <Transition fallback=|| ()>
                {move || datasets.get().and_then(Result::ok).map(|list| view! {
                    <p class="muted small" data-test="query-tables">
                        {if list.is_empty() {
                            "You may read no datasets yet.".to_owned()
                        } else {
                            format!("Tables: {}", list.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", "))
                        }}
                    </p>
                })}
            </Transition>
        </form>
        {move || run.value().get().map(|answer| match answer {
            Ok(result) => view! { <ResultGrid result=result /> }.into_any(),
            Err(err) => view! { <p class="alert" role="alert" data-test="query-error">{err.detail}</p> }.into_any(),
        })}
    }
}

/// The answer as CSV, for "Download CSV" (written as the server writes it).
fn as_csv(result: &QueryResult) -> String {
    let mut out = da_types::csv::header(&result.columns);
    for row in &result.rows {
        da_types::csv::push_row(&mut out, row);
    }
    out
}

#[component]
fn ResultGrid(result: QueryResult) -> impl IntoView {
    let csv_href = format!(
        "data:text/csv;charset=utf-8,{}",
        js_encode(&as_csv(&result))
    );
    let summary = format!(
        "{} row{} in {} ms",
        result.row_count,
        if result.row_count == 1 { "" } else { "s" },
        result.elapsed_ms
    );
    let numeric: Vec<bool> = result
        .columns
        .iter()
        .map(|c| da_types::is_numeric_type(&c.data_type))
        .collect();
    view! {
        <section class="card" data-test="query-result">
            <p class="muted small">
                <span data-test="query-summary">{summary}</span>
                {result.truncated.then(|| view! {
                    " · " <strong data-test="query-truncated">{format!("truncated at {} rows", result.row_count)}</strong>
                })}
                " · " <a href=csv_href download="query.csv" data-test="query-csv">"Download CSV"</a>
            </p>
            <div class="table-wrap">
                <table class="grid small" data-test="query-grid">
                    <thead><tr>{result.columns.iter().map(|c| view! {
                        <th class:num=da_types::is_numeric_type(&c.data_type)>{c.name.clone()}<br /><span class="muted">{c.data_type.clone()}</span></th>
                    }).collect_view()}</tr></thead>
                    <tbody>{result.rows.iter().map(|row| view! {
                        <tr data-test="query-row">{row.iter().zip(&numeric).map(|(v, numeric)| view! {
                            <td class:num=*numeric>{da_types::cell_text(v)}</td>
                        }).collect_view()}</tr>
                    }).collect_view()}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Percent-encoding for a `data:` URL.
fn js_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
