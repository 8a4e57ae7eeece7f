//! Prints how long building a fresh instance of an app takes, step by step (release build):
//! `cargo run --release -p edgeshim-engine --example boot_cost -- APP.js [N]`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use boa_engine::context::ContextBuilder;
use edgeshim_engine::{App, IncomingRequest, Instance};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .map_or("fixtures/kv-put-doc/index.js", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(500);
    let mut stores = edgeshim_store::Stores::new();
    stores.insert(
        "files",
        std::sync::Arc::new(edgeshim_store::MemoryStore::new(std::sync::Arc::new(
            edgeshim_store::SystemClock,
        ))),
    );
    let app = App::new(path.as_ref(), stores).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut ctx_only, mut runtime_reg, mut boot, mut handle, mut drop_t) =
        (vec![], vec![], vec![], vec![], vec![]);
    rt.block_on(async {
        for _ in 0..n {
            let t = Instant::now();
            let mut ctx = ContextBuilder::new().build().unwrap();
            ctx_only.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            edgeshim_engine::web::register(&mut ctx).unwrap();
            runtime_reg.push(t.elapsed().as_secs_f64() * 1e3);
            drop(ctx);

            let t = Instant::now();
            let mut instance = Instance::boot(&app).await.unwrap();
            boot.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            instance
                .handle(
                    IncomingRequest {
                        method: "GET".into(),
                        url: "http://x/".into(),
                        headers: vec![],
                        body: Default::default(),
                        pop: 0,
                    },
                    |r| assert_eq!(r.unwrap().status, 200),
                )
                .await;
            handle.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            drop(instance);
            drop_t.push(t.elapsed().as_secs_f64() * 1e3);
        }
    });
    println!("median ms over {n}: bare context {:.3}, web globals {:.3}, full boot {:.3}, handle {:.3}, drop {:.3}",
        median(ctx_only), median(runtime_reg), median(boot), median(handle), median(drop_t));
}
