//! `stockroom ledger`: every page of GET /admin/ledger up to --limit, as a
//! table or CSV. CSV is written here from the JSON pages (same columns as the
//! table), so paging and --limit work the same for both.
//!
//! Each page's `summary` covers that page's entries only; the CLI adds up the
//! summaries of every page it fetched. That is the whole filter's summary
//! only when it read to the last page; otherwise it covers the entries shown.

use anyhow::bail;
use serde_json::{Map, Value, json};

use super::{Api, LedgerArgs, table};

/// The API's page limit.
const PAGE: u64 = 500;
const COLUMNS: [&str; 10] = ["at", "kind", "file", "delta", "before", "after", "reference", "actor", "reason", "id"];

pub async fn run(api: &Api, args: &LedgerArgs, raw: bool) -> anyhow::Result<()> {
    let Fetched { entries, summary, complete } = fetch(api, args).await?;
    if raw {
        println!("{}", json!({ "entries": entries, "summary": summary, "complete": complete }));
    } else if args.csv {
        print_csv(&entries)?;
    } else {
        print_table(&entries, &summary, complete);
    }
    Ok(())
}

struct Fetched {
    entries: Vec<Value>,
    /// Per kind `{entries, delta}`, summed over the pages fetched.
    summary: Map<String, Value>,
    /// Read to the last page: the summary is the whole filter's.
    complete: bool,
}

/// Adds one page's per-kind summary into `total`.
fn add_summary(total: &mut Map<String, Value>, page: &Value) -> anyhow::Result<()> {
    let Some(per_kind) = page.get("summary").and_then(Value::as_object) else {
        bail!("GET /admin/ledger: the response's summary is not an object");
    };
    for (kind, s) in per_kind {
        let field = |v: &Value, f: &str| v.get(f).and_then(Value::as_i64).unwrap_or(0);
        let t = total.entry(kind.clone()).or_insert_with(|| json!({"entries": 0, "delta": 0}));
        *t = json!({"entries": field(t, "entries") + field(s, "entries"), "delta": field(t, "delta") + field(s, "delta")});
    }
    Ok(())
}

async fn fetch(api: &Api, args: &LedgerArgs) -> anyhow::Result<Fetched> {
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
    let (mut entries, mut summary, mut cursor) = (Vec::new(), Map::new(), None::<String>);
    let mut complete = false;
    while (entries.len() as u64) < wanted {
        let mut query = filters.clone();
        query.push(("limit", (wanted - entries.len() as u64).min(PAGE).to_string()));
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page = api.get("/admin/ledger", &query).await?;
        let Some(items) = page.get("entries").and_then(Value::as_array) else {
            bail!("GET /admin/ledger: the response has no entries list");
        };
        if items.len() as u64 > wanted - entries.len() as u64 {
            bail!("GET /admin/ledger: the page holds more entries than its limit");
        }
        // Every entry of the page is shown, so its summary counts whole.
        add_summary(&mut summary, &page)?;
        entries.extend(items.iter().cloned());
        let next = page.get("next_cursor").and_then(Value::as_str).map(str::to_string);
        match next {
            // A page may come back short, even empty, at its read budget.
            Some(n) if cursor.as_ref() == Some(&n) => {
                bail!("GET /admin/ledger: the API returned the same cursor again")
            }
            Some(n) => cursor = Some(n),
            None => {
                complete = true;
                break;
            }
        }
    }
    Ok(Fetched { entries, summary, complete })
}

fn row(entry: &Value) -> Vec<String> {
    COLUMNS.iter().map(|c| entry.get(*c).map(table::cell).unwrap_or_default()).collect()
}

fn print_table(entries: &[Value], summary: &Map<String, Value>, complete: bool) {
    let mut rows = vec![COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    rows.extend(entries.iter().map(row));
    let numeric = [false, false, false, true, true, true];
    print!("{}", table::render(&rows, &numeric));
    println!("{} entries", entries.len());
    if !summary.is_empty() {
        let rows: Vec<Vec<String>> = summary.iter().map(|(k, v)| vec![k.clone(), table::cell(v)]).collect();
        if complete {
            println!("summary over the filter:");
        } else {
            println!("summary over the {} entries shown:", entries.len());
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_summaries_add_up_per_kind() {
        let mut total = Map::new();
        add_summary(&mut total, &json!({"summary": {"sale": {"entries": 2, "delta": -2}}})).unwrap();
        add_summary(&mut total, &json!({"summary": {}})).unwrap();
        add_summary(
            &mut total,
            &json!({"summary": {"sale": {"entries": 1, "delta": -1}, "restock": {"entries": 3, "delta": 3}}}),
        )
        .unwrap();
        assert_eq!(
            Value::Object(total.clone()),
            json!({"sale": {"entries": 3, "delta": -3}, "restock": {"entries": 3, "delta": 3}})
        );
        assert!(add_summary(&mut total, &json!({"summary": null})).is_err(), "a null summary is refused");
    }
}
