//! `stockroom ledger`: every page of GET /admin/ledger up to --limit, as a
//! table or CSV. CSV is written here from the JSON pages (same columns as the
//! table), so paging and --limit work the same for both.

use anyhow::bail;
use serde_json::{Value, json};

use super::{Api, LedgerArgs, table};

/// The API's page limit.
const PAGE: u64 = 500;
const COLUMNS: [&str; 10] = ["at", "kind", "file", "delta", "before", "after", "reference", "actor", "reason", "id"];

pub async fn run(api: &Api, args: &LedgerArgs, raw: bool) -> anyhow::Result<()> {
    let (entries, summary) = fetch(api, args).await?;
    if raw {
        println!("{}", json!({ "entries": entries, "summary": summary }));
    } else if args.csv {
        print_csv(&entries)?;
    } else {
        print_table(&entries, &summary);
    }
    Ok(())
}

async fn fetch(api: &Api, args: &LedgerArgs) -> anyhow::Result<(Vec<Value>, Value)> {
    let mut filters: Vec<(&str, String)> = Vec::new();
    let named = [
        ("kind", &args.kind),
        ("file", &args.file),
        ("reference", &args.reference),
        ("since", &args.since),
        ("until", &args.until),
    ];
    for (name, value) in named {
        if let Some(v) = value {
            filters.push((name, v.clone()));
        }
    }
    let wanted = args.limit.unwrap_or(u64::MAX);
    let (mut entries, mut summary, mut cursor) = (Vec::new(), Value::Null, None::<String>);
    while (entries.len() as u64) < wanted {
        let mut query = filters.clone();
        query.push(("limit", (wanted - entries.len() as u64).min(PAGE).to_string()));
        match &cursor {
            Some(c) => query.push(("cursor", c.clone())),
            // The summary reads every matching entry: asked for once.
            None => query.push(("summary", "true".into())),
        }
        let page = api.get("/admin/ledger", &query).await?;
        let Some(items) = page.get("entries").and_then(Value::as_array) else {
            bail!("GET /admin/ledger: the response has no entries list");
        };
        if summary.is_null() {
            summary = page.get("summary").cloned().unwrap_or(Value::Null);
        }
        entries.extend(items.iter().take((wanted - entries.len() as u64) as usize).cloned());
        let next = page.get("next_cursor").and_then(Value::as_str).map(str::to_string);
        match next {
            // A page may come back short, even empty, at its read budget.
            Some(n) if cursor.as_ref() == Some(&n) => {
                bail!("GET /admin/ledger: the API returned the same cursor again")
            }
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    Ok((entries, summary))
}

fn row(entry: &Value) -> Vec<String> {
    COLUMNS.iter().map(|c| entry.get(*c).map(table::cell).unwrap_or_default()).collect()
}

fn print_table(entries: &[Value], summary: &Value) {
    let mut rows = vec![COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    rows.extend(entries.iter().map(row));
    let numeric = [false, false, false, true, true, true];
    print!("{}", table::render(&rows, &numeric));
    println!("{} entries", entries.len());
    if let Some(per_kind) = summary.as_object().filter(|s| !s.is_empty()) {
        let rows: Vec<Vec<String>> = per_kind.iter().map(|(k, v)| vec![k.clone(), table::cell(v)]).collect();
        println!("summary over the filter:");
        print!("{}", table::render(&rows, &[false, false]));
    }
}

fn print_csv(entries: &[Value]) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(COLUMNS)?;
    for e in entries {
        out.write_record(row(e))?;
    }
    out.flush()?;
    Ok(())
}
