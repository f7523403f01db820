//! The imports suite: bulk imports and hosted-file transfers against `palaver serve` run as a
//! child process (so its peak memory is its own), on a fresh SQLite database and, with
//! `--database-url`, on a fresh schema of that PostgreSQL server. Imports: elements a second from
//! the `202` to the job's end, and the server's peak resident memory, for two file sizes each (a
//! memory flat in the file's size is the point). Files: upload and download throughput of one
//! large file on the local store.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use crate::messages::{CLIENT_ID, CLIENT_SECRET};
use crate::procs::{self, Server};
use crate::Args;

/// Channels the imported messages go to, and users who send them.
const CHANNELS: usize = 10;
const SENDERS: usize = 10;

pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = match &args.palaver_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("palaver"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut engines: Vec<(&str, Option<String>)> = vec![("SQLite", None)];
        if let Some(url) = &args.database_url {
            engines.push(("PostgreSQL", Some(url.clone())));
        }
        println!("| scenario | engine | elements | seconds | elements/s | server peak RSS |");
        println!("|---|---|---:|---:|---:|---:|");
        for (engine, url) in &engines {
            let users = args.import_users;
            let messages = args.import_messages;
            let runs: [(&str, usize, bool); 4] = [
                ("users", users / 10, false),
                ("users", users, false),
                ("messages", messages / 10, true),
                ("messages", messages, true),
            ];
            for (what, n, are_messages) in runs {
                let name = format!("import {n} {what}");
                if !args.runs(&name) {
                    continue;
                }
                let schema = Fresh::open(url.as_deref()).await?;
                let server = procs::spawn_palaver_with(&bin, schema.url().as_deref(), &[])?;
                let outcome = if are_messages {
                    import_messages(&server, n).await
                } else {
                    import_users(&server, n).await
                };
                let peak = server.peak_rss_kib()?;
                server.report_warnings(&name);
                drop(server);
                schema.close().await?;
                let seconds = outcome?;
                println!(
                    "| {name} | {engine} | {n} | {seconds:.1} | {:.0} | {} MiB |",
                    n as f64 / seconds,
                    peak / 1024
                );
            }
        }
        if args.runs("files") {
            files(&bin, args.file_mb).await?;
        }
        anyhow::Ok(())
    })
}

/// A database for one run: a new SQLite file (the server's own), or a new PostgreSQL schema.
struct Fresh {
    pg: Option<(String, String, palaver_store::Db)>,
}

impl Fresh {
    async fn open(url: Option<&str>) -> anyhow::Result<Fresh> {
        let Some(url) = url else {
            return Ok(Fresh { pg: None });
        };
        let schema = format!("bench_{}", palaver_domain::id::new_object_id());
        let db = palaver_store::Db::connect_postgres_schema(url, &schema).await?;
        Ok(Fresh {
            pg: Some((url.to_string(), schema, db)),
        })
    }

    fn url(&self) -> Option<String> {
        self.pg.as_ref().map(|(url, schema, _)| {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-c%20search_path%3D{schema}")
        })
    }

    async fn close(self) -> anyhow::Result<()> {
        if let Some((_, schema, db)) = self.pg {
            db.drop_schema(&schema).await?;
            db.close().await;
        }
        Ok(())
    }
}

async fn token(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let grant: Value = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    Ok(grant["access_token"]
        .as_str()
        .context("no access token")?
        .to_string())
}

async fn post_json(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let res = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "{url}: {}", res.status());
    Ok(res.json().await?)
}

/// A multipart body with one part `file` of `bytes`, and its content type.
fn form(name: &str, kind: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "palaver-bench-7MA4YWxkTrZu0gW";
    let mut body = Vec::with_capacity(bytes.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: {kind}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Posts `file` to `path`, waits for its job to end, and answers the seconds from the `202` to
/// the end.
async fn import(server: &Server, path: &str, file: Vec<u8>, n: usize) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let token = token(&client, &server.base).await?;
    let (kind, body) = form("import.json", "application/json", &file);
    drop(file);
    let res = client
        .post(format!("{}{path}", server.base))
        .bearer_auth(&token)
        .header("Content-Type", kind)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(res.status().as_u16() == 202, "{path}: {}", res.status());
    let started = Instant::now();
    let job: Value = res.json().await?;
    let url = format!("{}/jobs/{}", server.base, job["id"]);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let job: Value = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        match job["state"].as_str() {
            Some("FINISHED") => {
                let created = job["progress"]["created"].as_u64().unwrap_or(0);
                anyhow::ensure!(created == n as u64, "created {created} of {n}: {job}");
                return Ok(started.elapsed().as_secs_f64());
            }
            Some("FAILED") => anyhow::bail!("the import failed: {job}"),
            _ => {}
        }
    }
}

async fn import_users(server: &Server, n: usize) -> anyhow::Result<f64> {
    let mut file = Vec::with_capacity(n * 100);
    file.push(b'[');
    for i in 0..n {
        if i > 0 {
            file.push(b',');
        }
        let e = json!({"name": format!("user-{i}"), "display_name": format!("User {i}"),
                       "guest": false, "properties": {"n": i}, "idempotency_key": format!("u{i}")});
        serde_json::to_writer(&mut file, &e)?;
    }
    file.push(b']');
    import(server, "/imports/users", file, n).await
}

async fn import_messages(server: &Server, n: usize) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let token = token(&client, &server.base).await?;
    let base = &server.base;
    for s in 0..SENDERS {
        post_json(
            &client,
            format!("{base}/users"),
            &token,
            json!({"name": format!("sender-{s}"), "display_name": format!("Sender {s}")}),
        )
        .await?;
    }
    let mut channels = Vec::new();
    for c in 0..CHANNELS {
        let ch = post_json(
            &client,
            format!("{base}/channels"),
            &token,
            json!({"type": "PUBLIC", "name": format!("history-{c}")}),
        )
        .await?;
        channels.push(ch["id"].as_i64().context("channel id")?);
    }
    let mut file = Vec::with_capacity(n * 120);
    file.push(b'[');
    for i in 0..n {
        if i > 0 {
            file.push(b',');
        }
        let e = json!({"type": "TEXT", "channel_id": channels[i % CHANNELS],
                       "user": format!("sender-{}", i % SENDERS),
                       "body": format!("Imported message number {i} of the old history"),
                       "idempotency_key": format!("m{i}")});
        serde_json::to_writer(&mut file, &e)?;
    }
    file.push(b']');
    import(server, "/imports/messages", file, n).await
}

/// Uploads a file of `mb` MiB as a FILE message and downloads it back, on the local store.
async fn files(bin: &Path, mb: usize) -> anyhow::Result<()> {
    let server =
        procs::spawn_palaver_with(bin, None, &[("PALAVER_MAX_UPLOAD_BYTES", "2147483648")])?;
    let client = reqwest::Client::new();
    let token = token(&client, &server.base).await?;
    let base = &server.base;
    post_json(
        &client,
        format!("{base}/users"),
        &token,
        json!({"name": "uploader", "display_name": "Uploader"}),
    )
    .await?;
    let ch = post_json(
        &client,
        format!("{base}/channels"),
        &token,
        json!({"type": "PUBLIC", "name": "files"}),
    )
    .await?;
    let bytes: Vec<u8> = (0..mb * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let (kind, body) = form("big.bin", "application/octet-stream", &bytes);
    let started = Instant::now();
    let res = client
        .post(format!("{base}/channels/{}/messages", ch["id"]))
        .bearer_auth(&token)
        .header("Content-Type", kind)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "upload: {}", res.status());
    let up = started.elapsed().as_secs_f64();
    let message: Value = res.json().await?;
    let url = message["file"]["url"]
        .as_str()
        .context("file url")?
        .to_string();
    let started = Instant::now();
    let got = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await?
        .bytes()
        .await?;
    let down = started.elapsed().as_secs_f64();
    anyhow::ensure!(got.len() == bytes.len(), "downloaded {} bytes", got.len());
    let peak = server.peak_rss_kib()?;
    server.report_warnings("files");
    println!();
    println!("| file of {mb} MiB, local store | seconds | MiB/s | server peak RSS |");
    println!("|---|---:|---:|---:|");
    println!(
        "| upload (multipart FILE message) | {up:.2} | {:.0} | {} MiB |",
        mb as f64 / up,
        peak / 1024
    );
    println!("| download | {down:.2} | {:.0} | |", mb as f64 / down);
    Ok(())
}
