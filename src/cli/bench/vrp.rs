//! `skuplan bench vrp`: our routing solver on the Solomon instances against their best-known solutions.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

/// `skuplan bench vrp`: every Solomon instance in `dir`, solved for
/// `seconds` each, its routes checked independently, vehicles and distance
/// beside the best-known solutions, with averages per class.
pub fn vrp_bench(
    dir: &Path,
    budget: crate::plan::vrp::Budget,
    only: Option<&str>,
    routes_out: Option<&Path>,
) -> Result<()> {
    use std::collections::BTreeMap;

    use crate::plan::route_check::check;
    use crate::plan::solomon::Instance;
    use crate::plan::vrp::solve;

    #[derive(serde::Deserialize)]
    struct Bks {
        instance: String,
        bks_vehicles: f64,
        bks_distance: f64,
    }
    // The best-known solutions, when the folder has them: without the file
    // the instances are still solved and checked, only without gaps.
    let bks_path = dir.join("solomon_bks.csv");
    let mut bks = std::collections::HashMap::new();
    if bks_path.exists() {
        let mut reader =
            csv::Reader::from_path(&bks_path).with_context(|| format!("cannot read {}", bks_path.display()))?;
        for row in reader.deserialize::<Bks>() {
            let row = row.with_context(|| format!("{} has a bad row", bks_path.display()))?;
            bks.insert(row.instance.to_ascii_uppercase(), (row.bks_vehicles, row.bks_distance));
        }
    } else {
        println!(
            "no {} here: routes are solved and checked, without gaps to the best-known solutions",
            bks_path.display()
        );
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("txt")))
        .filter(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().to_ascii_uppercase())
                .unwrap_or_default();
            only.is_none_or(|o| stem.starts_with(&o.to_ascii_uppercase()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "no Solomon instance (a .txt file){} in {}",
            only.map(|o| format!(" whose name starts with {o}")).unwrap_or_default(),
            dir.display()
        );
    }
    if let Some(out) = routes_out {
        std::fs::create_dir_all(out)?;
    }
    println!(
        "{:<7} {:>4} {:>4} {:>6} {:>10} {:>10} {:>7} {:>6} {:>8} feasible",
        "inst", "veh", "bks", "veh%", "distance", "bks", "dist%", "s", "iter"
    );
    // class -> (n, vehicle gap sum, distance gap sum)
    let mut classes: BTreeMap<String, (usize, f64, f64)> = BTreeMap::new();
    let mut infeasible = 0;
    for f in files {
        let inst = Instance::read(&f)?;
        let (matrix, jobs, vehicles) = inst.to_problem();
        let clock = Instant::now();
        let routing = solve(&matrix, &jobs, &vehicles, budget);
        let took = clock.elapsed().as_secs_f64();
        let problems = check(&matrix, &jobs, &vehicles, &routing);
        let ok = problems.is_empty() && routing.unassigned.is_empty();
        if !ok {
            infeasible += 1;
        }
        let used = routing.routes.iter().filter(|r| !r.visits.is_empty()).count();
        let key = inst.name.to_ascii_uppercase();
        let known = bks.get(&key).copied();
        let gaps = known.map(|(bv, bd)| (100.0 * (used as f64 - bv) / bv, 100.0 * (routing.distance - bd) / bd));
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        println!(
            "{:<7} {:>4} {:>4} {:>6} {:>10.2} {:>10} {:>7} {:>6.1} {:>8} {}",
            inst.name,
            used,
            or_dash(known.map(|(bv, _)| format!("{bv}"))),
            or_dash(gaps.map(|(v, _)| format!("{v:+.1}"))),
            routing.distance,
            or_dash(known.map(|(_, bd)| format!("{bd:.2}"))),
            or_dash(gaps.map(|(_, d)| format!("{d:+.2}"))),
            took,
            routing.iterations,
            if ok {
                "yes".to_string()
            } else {
                format!("NO: {} problems, {} unserved", problems.len(), routing.unassigned.len())
            }
        );
        let class: String = key.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>()
            + &key
                .chars()
                .skip_while(|c| c.is_ascii_alphabetic())
                .take(1)
                .collect::<String>();
        if let Some((vgap, dgap)) = gaps {
            let e = classes.entry(class).or_default();
            e.0 += 1;
            e.1 += vgap;
            e.2 += dgap;
        }
        if let Some(out) = routes_out {
            let mut text = String::from("vehicle,seq,customer\n");
            for (n, r) in routing.routes.iter().filter(|r| !r.visits.is_empty()).enumerate() {
                for (seq, v) in r.visits.iter().enumerate() {
                    text.push_str(&format!(
                        "{},{},{}\n",
                        n + 1,
                        seq + 1,
                        inst.nodes[jobs[v.job].location].number
                    ));
                }
            }
            crate::fsio::atomic_write(&out.join(format!("{}.csv", inst.name)), text.as_bytes())?;
        }
    }
    println!("\n{:<6} {:>4} {:>10} {:>10}", "class", "n", "veh gap%", "dist gap%");
    let (mut n, mut vg, mut dg) = (0, 0.0, 0.0);
    for (c, (k, v, d)) in &classes {
        println!("{c:<6} {k:>4} {:>+10.2} {:>+10.2}", v / *k as f64, d / *k as f64);
        n += k;
        vg += v;
        dg += d;
    }
    if n > 0 {
        println!("{:<6} {n:>4} {:>+10.2} {:>+10.2}", "all", vg / n as f64, dg / n as f64);
    }
    println!("infeasible or incomplete: {infeasible}");
    Ok(())
}
