//! Vehicle routing with time windows, capacities and shifts.
//!
//! Our own solver, after the "slack induction by string removals" (SISR)
//! ruin-and-recreate scheme of Christiaens and Vanden Berghe (Transportation
//! Science, 2020): remove a few strings of neighbouring stops, put them back
//! greedily with "blinks" (positions skipped at random), accept under
//! simulated annealing. A fleet-minimisation phase first takes routes away
//! and counts how often each stop is left out ("absences") to steer the
//! search towards a plan with fewer vehicles.
//!
//! Why not vrp-core (used until session 3): its search cannot be repeated
//! (hash sets keyed by pointer address, rewards from wall-clock time, rayon
//! tie-breaks, a seed fixed at 0; its issues #136 and #147), while plans
//! here must be the same for the same seed and budget; and at 10 s per
//! Solomon instance it was 8 % over the best-known vehicle counts.
//!
//! Every random choice comes from one ChaCha generator seeded by the
//! caller, and the search runs on one thread, so with an iteration budget
//! the result is a function of the input and the seed. With a time budget
//! it is not (the number of iterations depends on the machine), which the
//! result says.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A delivery: where, how much, when, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Index into the matrix.
    pub location: usize,
    pub demand: u32,
    /// Service may start from `ready` to `due` (same unit as the matrix's
    /// durations).
    pub ready: f64,
    pub due: f64,
    pub service: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VehicleSpec {
    pub id: String,
    pub start: usize,
    pub end: usize,
    pub shift_start: f64,
    pub shift_end: f64,
    pub capacity: u32,
    /// Travel times of this vehicle are the matrix's durations times this
    /// (a slower vehicle has a larger factor). 1 for most uses.
    pub time_factor: f64,
}

/// A square matrix of travel distances and durations, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub size: usize,
    pub distance: Vec<f64>,
    pub duration: Vec<f64>,
}

impl Matrix {
    /// Euclidean distances between points; duration equal to distance (the
    /// Solomon convention: one unit of distance takes one unit of time).
    pub fn euclidean(points: &[(f64, f64)]) -> Matrix {
        let d: Vec<f64> = points
            .iter()
            .flat_map(|a| points.iter().map(move |b| (a.0 - b.0).hypot(a.1 - b.1)))
            .collect();
        Matrix {
            size: points.len(),
            distance: d.clone(),
            duration: d,
        }
    }

    pub fn distance(&self, a: usize, b: usize) -> f64 {
        self.distance[a * self.size + b]
    }

    pub fn duration(&self, a: usize, b: usize) -> f64 {
        self.duration[a * self.size + b]
    }
}

/// One stop of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// Index into the jobs.
    pub job: usize,
    pub arrival: f64,
    /// Service start: the arrival, or the window's opening if that is later.
    pub start: f64,
    pub departure: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutePlan {
    /// Index into the vehicles.
    pub vehicle: usize,
    /// When the vehicle leaves its depot: as late as it can without
    /// serving any stop later than it would leaving at shift start.
    pub depart: f64,
    /// Back at the end depot.
    pub back: f64,
    pub visits: Vec<Visit>,
    pub distance: f64,
}

/// What ended the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The iteration budget ran out: the result repeats for the same seed.
    Iterations,
    /// The time budget ran out first, or ran ahead of the iterations and
    /// so paced the annealing: another run may differ.
    Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// Routes with at least one stop, by vehicle index.
    pub routes: Vec<RoutePlan>,
    /// Jobs no vehicle could take, with the reason.
    pub unassigned: Vec<(usize, Unserved)>,
    /// Total distance of the routes.
    pub distance: f64,
    pub iterations: u64,
    pub stop: Stop,
}

/// Why a job was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unserved {
    /// Too heavy for every vehicle.
    Capacity,
    /// No vehicle reaches it within its window and is back before the end
    /// of its shift, even serving it alone.
    TimeWindow,
    /// It could be served alone, but not together with the others: the
    /// fleet is too small (or shifts too short) for the day's orders.
    FleetFull,
}

impl Unserved {
    pub fn reason(self) -> &'static str {
        match self {
            Unserved::Capacity => "too heavy for every vehicle",
            Unserved::TimeWindow => "no vehicle can reach it within its window and return within its shift",
            Unserved::FleetFull => "no room left: the fleet cannot take it with the other orders",
        }
    }
}

/// How long to search, and with which seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub seed: u64,
    /// Wall-clock cap in seconds.
    pub seconds: f64,
    /// Iterations of ruin and recreate. `None`: as many as `seconds` allow
    /// (the annealing schedule then follows the clock).
    pub iterations: Option<u64>,
}

impl Budget {
    pub fn seconds(seconds: f64) -> Budget {
        Budget {
            seed: 1,
            seconds,
            iterations: None,
        }
    }

    pub fn iterations(iterations: u64, seed: u64) -> Budget {
        Budget {
            seed,
            seconds: f64::INFINITY,
            iterations: Some(iterations),
        }
    }
}

/// SISR's parameters: average removed stops, longest string, blink rate.
const AVG_REMOVED: f64 = 10.0;
const MAX_STRING: f64 = 10.0;
const BLINK: f64 = 0.01;
/// Share of the budget spent taking vehicles away before annealing on
/// distance.
const FLEET_SHARE: f64 = 0.4;
/// Independent searches (each with its own seed drawn from the caller's
/// and a share of the budget); the best wins. One search now and then
/// settles in a poor valley (C205 at seed 1: +16.6 % where seeds 2-4
/// find the best-known solution); three rarely all do.
const RUNS: u64 = 3;
/// How far (a share of the time budget) the clock may run ahead of the
/// iterations before it paces the search.
const CLOCK_SLACK: f64 = 0.1;
/// Nearest stops kept per stop for the ruin's walk.
const NEIGHBOURS: usize = 200;

/// Solve: fewest unserved jobs first, then fewest vehicles, then distance.
pub fn solve(matrix: &Matrix, jobs: &[JobSpec], vehicles: &[VehicleSpec], budget: Budget) -> Routing {
    let clock = Instant::now();
    let key = |r: &Routing| (r.unassigned.len(), r.routes.len());
    let mut best: Option<Routing> = None;
    let (mut iterations, mut stop) = (0, Stop::Iterations);
    for k in 0..RUNS {
        let left = budget.seconds - clock.elapsed().as_secs_f64();
        let share = Budget {
            seed: budget.seed.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            seconds: left / (RUNS - k) as f64,
            // The last run takes what the division leaves.
            iterations: budget
                .iterations
                .map(|n| n / RUNS + if k + 1 == RUNS { n % RUNS } else { 0 }),
        };
        let r = solve_once(matrix, jobs, vehicles, share);
        iterations += r.iterations;
        if r.stop == Stop::Time {
            stop = Stop::Time;
        }
        if best
            .as_ref()
            .is_none_or(|b| key(&r).cmp(&key(b)).then(r.distance.total_cmp(&b.distance)).is_lt())
        {
            best = Some(r);
        }
    }
    let mut best = best.unwrap_or_else(|| solve_once(matrix, jobs, vehicles, budget));
    best.iterations = iterations;
    best.stop = stop;
    best
}

fn solve_once(matrix: &Matrix, jobs: &[JobSpec], vehicles: &[VehicleSpec], budget: Budget) -> Routing {
    let clock = Instant::now();
    let ctx = Ctx::new(matrix, jobs, vehicles);
    let mut rng = ChaCha8Rng::seed_from_u64(budget.seed);

    // Jobs nobody can ever serve stay out of the search.
    let mut impossible = Vec::new();
    let mut open = Vec::new();
    for (i, j) in jobs.iter().enumerate() {
        match explain(matrix, j, vehicles) {
            Some(why) => impossible.push((i, why)),
            None => open.push(i),
        }
    }

    let mut sol = Sol::empty(&ctx);
    ctx.recreate(&mut sol, open, true, &mut rng);
    let mut best = sol.clone();

    let total = budget.iterations;
    let mut iter: u64 = 0;
    // How far the search is: the share of the iterations or of the time,
    // whichever is further on. With both, a time cap that binds first
    // still cools the annealing down and ends the fleet phase in time (the
    // schedule used to follow the iterations alone, so a large iteration
    // budget under a short cap searched hot until the cap: R101 at 2 s
    // with 10^8 iterations, 21 vehicles and 1,807 km against 19 and 1,653).
    // Without a cap (`seconds` infinite) it is the iterations alone, and
    // the result a function of the input and the seed; where the clock led
    // at any point, the result says it may differ (`Stop::Time`).
    // The clock leads only once it is a tenth of the budget ahead (and
    // then still ends at 1 on the cap), so a search on schedule stays a
    // function of its iterations.
    let clock_led = std::cell::Cell::new(false);
    let progress = |iter: u64| -> f64 {
        let by_time = clock.elapsed().as_secs_f64() / budget.seconds.max(1e-9);
        match total {
            Some(n) => {
                let by_iter = iter as f64 / n.max(1) as f64;
                let behind = (by_time - CLOCK_SLACK) / (1.0 - CLOCK_SLACK);
                if behind > by_iter {
                    clock_led.set(true);
                }
                by_iter.max(behind)
            }
            None => by_time,
        }
    };
    let out_of_time = || clock.elapsed().as_secs_f64() >= budget.seconds;
    let mut stop = Stop::Iterations;

    // Phase 1: fewer vehicles. Take a route away, try to fit its stops into
    // the others; stops that keep falling out weigh more.
    let mut absences = vec![0u64; jobs.len()];
    let absent = |s: &Sol, a: &[u64]| -> u64 { s.unassigned.iter().map(|j| a[*j]).sum() };
    let mut cur = sol;
    let mut fleet_tries = 0usize;
    while progress(iter) < FLEET_SHARE && ctx.used(&cur) > 1 {
        if out_of_time() {
            stop = Stop::Time;
            break;
        }
        if cur.unassigned.len() <= best.unassigned.len() {
            if ctx.better(&cur, &best) {
                best = cur.clone();
            }
            // Drop a short route: the shorter of two picked at random.
            let used: Vec<usize> = (0..cur.routes.len())
                .filter(|r| !cur.routes[*r].jobs.is_empty())
                .collect();
            let a = used[rng.random_range(0..used.len())];
            let b = used[rng.random_range(0..used.len())];
            let r = if cur.routes[a].jobs.len() <= cur.routes[b].jobs.len() {
                a
            } else {
                b
            };
            let taken = std::mem::take(&mut cur.routes[r].jobs);
            ctx.refresh(&mut cur, r);
            for j in taken {
                cur.route_of[j] = NONE;
                cur.unassigned.push(j);
            }
            fleet_tries += 1;
        }
        let mut cand = cur.clone();
        let mut removed = ctx.ruin(&mut cand, &mut rng);
        removed.append(&mut cand.unassigned);
        ctx.recreate(&mut cand, removed, false, &mut rng);
        if cand.unassigned.len() < cur.unassigned.len() || absent(&cand, &absences) < absent(&cur, &absences) {
            cur = cand;
        }
        for j in &cur.unassigned {
            absences[*j] += 1;
        }
        iter += 1;
    }
    if cur.unassigned.len() <= best.unassigned.len() && ctx.better(&cur, &best) {
        best = cur;
    }
    tracing::debug!(fleet_tries, vehicles = ctx.used(&best), "fleet minimisation done");

    // Phase 2: distance, with the vehicles found, under simulated
    // annealing from a temperature scaled to the problem's distances.
    let (t0, t1) = (ctx.scale * 3.0, ctx.scale * 0.03);
    let start = progress(iter).min(FLEET_SHARE);
    let mut cur = best.clone();
    let mut cur_cost = ctx.cost(&cur);
    loop {
        if total.is_some_and(|n| iter >= n) {
            break;
        }
        if out_of_time() {
            if total.is_some() {
                stop = Stop::Time;
            }
            break;
        }
        let p = ((progress(iter) - start) / (1.0 - start)).clamp(0.0, 1.0);
        let temp = t0 * (t1 / t0).powf(p);
        let mut cand = cur.clone();
        let mut removed = ctx.ruin(&mut cand, &mut rng);
        removed.append(&mut cand.unassigned);
        // Routes may open again, at their cost: only to serve what would
        // otherwise be left out.
        ctx.recreate(&mut cand, removed, true, &mut rng);
        let cost = ctx.cost(&cand);
        let u: f64 = rng.random_range(f64::EPSILON..1.0);
        if cost < cur_cost - temp * u.ln() {
            cur = cand;
            cur_cost = cost;
            if ctx.better(&cur, &best) {
                best = cur.clone();
            }
        }
        iter += 1;
    }
    if total.is_none() {
        stop = Stop::Time;
    }
    if clock_led.get() {
        stop = Stop::Time;
    }
    ctx.finish(&best, impossible, iter, stop)
}

const NONE: usize = usize::MAX;

struct Ctx<'a> {
    m: &'a Matrix,
    jobs: &'a [JobSpec],
    veh: &'a [VehicleSpec],
    /// Per job, the nearest jobs by distance (itself first).
    neighbours: Vec<Vec<usize>>,
    /// Per vehicle, the first vehicle just like it: an empty route is tried
    /// once per kind of vehicle.
    kind: Vec<usize>,
    /// Mean distance from the depots to the jobs: the unit of the annealing
    /// temperature and of the penalties.
    scale: f64,
    /// Cost of leaving a job out, far above any route's distance.
    unserved_penalty: f64,
}

#[derive(Clone)]
struct Route {
    jobs: Vec<usize>,
    /// Earliest service start at each stop.
    start: Vec<f64>,
    /// Latest service start at each stop that keeps the rest on time.
    latest: Vec<f64>,
    load: u64,
    dist: f64,
}

#[derive(Clone)]
struct Sol {
    /// One route per vehicle, possibly empty.
    routes: Vec<Route>,
    unassigned: Vec<usize>,
    route_of: Vec<usize>,
}

impl Sol {
    fn empty(ctx: &Ctx) -> Sol {
        Sol {
            routes: vec![
                Route {
                    jobs: Vec::new(),
                    start: Vec::new(),
                    latest: Vec::new(),
                    load: 0,
                    dist: 0.0,
                };
                ctx.veh.len()
            ],
            unassigned: Vec::new(),
            route_of: vec![NONE; ctx.jobs.len()],
        }
    }
}

impl<'a> Ctx<'a> {
    fn new(m: &'a Matrix, jobs: &'a [JobSpec], veh: &'a [VehicleSpec]) -> Ctx<'a> {
        let neighbours = (0..jobs.len())
            .map(|i| {
                let mut n: Vec<usize> = (0..jobs.len()).collect();
                n.sort_by(|a, b| {
                    let da = m.distance(jobs[i].location, jobs[*a].location);
                    let db = m.distance(jobs[i].location, jobs[*b].location);
                    da.total_cmp(&db).then(a.cmp(b))
                });
                if let Some(p) = n.iter().position(|x| *x == i) {
                    n.remove(p);
                    n.insert(0, i);
                }
                // A ruin reaches a few routes around its seed: the nearest
                // stops are enough, and n x n lists would not fit for
                // thousands of orders.
                n.truncate(NEIGHBOURS);
                n
            })
            .collect();
        let kind = (0..veh.len())
            .map(|i| {
                let v = &veh[i];
                (0..i)
                    .find(|k| {
                        let w = &veh[*k];
                        (w.start, w.end, w.capacity) == (v.start, v.end, v.capacity)
                            && w.shift_start == v.shift_start
                            && w.shift_end == v.shift_end
                            && w.time_factor == v.time_factor
                    })
                    .unwrap_or(i)
            })
            .collect();
        let mut sum = 0.0;
        let mut n = 0usize;
        for j in jobs {
            for v in veh {
                sum += m.distance(v.start, j.location);
                n += 1;
            }
        }
        let scale = if n > 0 && sum > 0.0 { sum / n as f64 } else { 1.0 };
        let longest = m.distance.iter().copied().fold(0.0, f64::max);
        Ctx {
            m,
            jobs,
            veh,
            neighbours,
            kind,
            scale,
            unserved_penalty: 10.0 * (2.0 * longest + scale) * (jobs.len() as f64 + 1.0),
        }
    }

    fn time(&self, v: usize, a: usize, b: usize) -> f64 {
        self.m.duration(a, b) * self.veh[v].time_factor
    }

    fn used(&self, s: &Sol) -> usize {
        s.routes.iter().filter(|r| !r.jobs.is_empty()).count()
    }

    fn distance(&self, s: &Sol) -> f64 {
        s.routes.iter().map(|r| r.dist).sum()
    }

    fn cost(&self, s: &Sol) -> f64 {
        self.distance(s) + self.route_cost() * self.used(s) as f64 + self.unserved_penalty * s.unassigned.len() as f64
    }

    /// What a vehicle costs: more than any detour, less than a job left out.
    fn route_cost(&self) -> f64 {
        self.unserved_penalty / (self.jobs.len() as f64 + 1.0)
    }

    /// Fewer unserved, then fewer vehicles, then shorter.
    fn better(&self, a: &Sol, b: &Sol) -> bool {
        (a.unassigned.len(), self.used(a))
            .cmp(&(b.unassigned.len(), self.used(b)))
            .then(self.distance(a).total_cmp(&self.distance(b)))
            .is_lt()
    }

    /// Recompute a route's schedule, load and distance after a change.
    fn refresh(&self, s: &mut Sol, r: usize) {
        let v = &self.veh[r];
        let route = &mut s.routes[r];
        let n = route.jobs.len();
        route.start.clear();
        route.latest.clear();
        route.load = 0;
        route.dist = 0.0;
        if n == 0 {
            return;
        }
        let (mut at, mut t) = (v.start, v.shift_start);
        for &j in &route.jobs {
            let job = &self.jobs[j];
            let s0 = (t + self.time(r, at, job.location)).max(job.ready);
            route.start.push(s0);
            route.dist += self.m.distance(at, job.location);
            route.load += u64::from(job.demand);
            t = s0 + job.service;
            at = job.location;
        }
        route.dist += self.m.distance(at, v.end);
        route.latest.resize(n, 0.0);
        let mut next_latest = v.shift_end;
        let mut next_loc = v.end;
        for i in (0..n).rev() {
            let job = &self.jobs[route.jobs[i]];
            let l = job
                .due
                .min(next_latest - self.time(r, job.location, next_loc) - job.service);
            route.latest[i] = l;
            next_latest = l;
            next_loc = job.location;
        }
    }

    /// Extra distance of serving `j` in route `r` before position `p`, if
    /// that keeps every window, the shift and the capacity.
    fn insertion(&self, s: &Sol, r: usize, p: usize, j: usize) -> Option<f64> {
        let v = &self.veh[r];
        let route = &s.routes[r];
        let job = &self.jobs[j];
        let (prev, dep) = if p == 0 {
            (v.start, v.shift_start)
        } else {
            let pj = route.jobs[p - 1];
            (self.jobs[pj].location, route.start[p - 1] + self.jobs[pj].service)
        };
        let start = (dep + self.time(r, prev, job.location)).max(job.ready);
        if start > job.due {
            return None;
        }
        let leave = start + job.service;
        let (next, ok) = if p == route.jobs.len() {
            (v.end, leave + self.time(r, job.location, v.end) <= v.shift_end)
        } else {
            let nj = route.jobs[p];
            let loc = self.jobs[nj].location;
            (loc, leave + self.time(r, job.location, loc) <= route.latest[p])
        };
        ok.then(|| {
            self.m.distance(prev, job.location) + self.m.distance(job.location, next) - self.m.distance(prev, next)
        })
    }

    /// SISR's ruin: strings of neighbouring stops from a few routes around
    /// a random stop.
    fn ruin(&self, s: &mut Sol, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let assigned: usize = s.routes.iter().map(|r| r.jobs.len()).sum();
        let used = self.used(s);
        if assigned == 0 {
            return Vec::new();
        }
        let avg = assigned as f64 / used as f64;
        let ls_max = MAX_STRING.min(avg);
        let ks_max = 4.0 * AVG_REMOVED / (1.0 + ls_max) - 1.0;
        let ks = (rng.random_range(1.0..ks_max.max(1.0) + 1.0) as usize).max(1);
        // A random assigned stop as the seed.
        let seed = loop {
            let j = rng.random_range(0..self.jobs.len());
            if s.route_of[j] != NONE {
                break j;
            }
        };
        let mut removed = Vec::new();
        let mut ruined: Vec<usize> = Vec::new();
        for &c in &self.neighbours[seed] {
            if ruined.len() >= ks {
                break;
            }
            let r = s.route_of[c];
            if r == NONE || ruined.contains(&r) {
                continue;
            }
            let route = &mut s.routes[r];
            let len = route.jobs.len();
            let Some(pos) = route.jobs.iter().position(|x| *x == c) else {
                continue;
            };
            let lmax = (len as f64).min(ls_max);
            let l = (rng.random_range(1.0..lmax + 1.0) as usize).clamp(1, len);
            let take: Vec<usize> = if l == len || rng.random_bool(0.5) {
                // A string of l stops that holds c.
                let lo = (pos + 1).saturating_sub(l);
                let hi = pos.min(len - l);
                let from = rng.random_range(lo..=hi);
                route.jobs.drain(from..from + l).collect()
            } else {
                // A string of l + m stops holding c, of which m in the
                // middle stay.
                let mut m = 1;
                while l + m < len && rng.random_bool(0.3) {
                    m += 1;
                }
                let m = m.min(len - l);
                let w = l + m;
                let lo = (pos + 1).saturating_sub(w);
                let hi = pos.min(len - w);
                let from = rng.random_range(lo..=hi);
                let keep_at = rng.random_range(0..=l);
                let window: Vec<usize> = route.jobs.drain(from..from + w).collect();
                let mut kept = Vec::with_capacity(m);
                let mut gone = Vec::with_capacity(l);
                for (k, x) in window.into_iter().enumerate() {
                    if k >= keep_at && k < keep_at + m {
                        kept.push(x);
                    } else {
                        gone.push(x);
                    }
                }
                for (k, x) in kept.into_iter().enumerate() {
                    route.jobs.insert(from + k, x);
                }
                gone
            };
            for j in &take {
                s.route_of[*j] = NONE;
            }
            removed.extend(take);
            ruined.push(r);
            self.refresh(s, r);
        }
        removed
    }

    /// Greedy insertion with blinks, in one of SISR's orders; what fits
    /// nowhere joins the unassigned. `open` allows starting empty routes.
    fn recreate(&self, s: &mut Sol, mut todo: Vec<usize>, open: bool, rng: &mut ChaCha8Rng) {
        let pick = rng.random_range(0..11);
        if pick < 4 {
            // Random order.
            for i in (1..todo.len()).rev() {
                let k = rng.random_range(0..=i);
                todo.swap(i, k);
            }
        } else if pick < 8 {
            todo.sort_by_key(|j| std::cmp::Reverse(self.jobs[*j].demand));
        } else {
            let depot = |j: &usize| {
                self.m
                    .distance(self.veh.first().map_or(0, |v| v.start), self.jobs[*j].location)
            };
            if pick < 10 {
                todo.sort_by(|a, b| depot(b).total_cmp(&depot(a)));
            } else {
                todo.sort_by(|a, b| depot(a).total_cmp(&depot(b)));
            }
        }
        // A new route costs far more than any detour: fill what is open.
        let open_cost = self.route_cost();
        let mut tried = vec![false; self.veh.len()];
        for j in todo {
            let demand = u64::from(self.jobs[j].demand);
            let mut best: Option<(f64, usize, usize)> = None;
            tried.iter_mut().for_each(|t| *t = false);
            for r in 0..s.routes.len() {
                let empty = s.routes[r].jobs.is_empty();
                if empty {
                    if !open || tried[self.kind[r]] {
                        continue;
                    }
                    tried[self.kind[r]] = true;
                }
                if s.routes[r].load + demand > u64::from(self.veh[r].capacity) {
                    continue;
                }
                let extra = if empty { open_cost } else { 0.0 };
                for p in 0..=s.routes[r].jobs.len() {
                    if rng.random_bool(BLINK) {
                        continue;
                    }
                    if let Some(d) = self.insertion(s, r, p, j) {
                        let d = d + extra;
                        if best.is_none_or(|b| d < b.0) {
                            best = Some((d, r, p));
                        }
                    }
                }
            }
            match best {
                Some((_, r, p)) => {
                    s.routes[r].jobs.insert(p, j);
                    s.route_of[j] = r;
                    self.refresh(s, r);
                }
                None => s.unassigned.push(j),
            }
        }
    }

    fn finish(&self, s: &Sol, mut unassigned: Vec<(usize, Unserved)>, iterations: u64, stop: Stop) -> Routing {
        let routes: Vec<RoutePlan> = s
            .routes
            .iter()
            .enumerate()
            .filter(|(_, route)| !route.jobs.is_empty())
            .map(|(r, route)| timeline(self.m, self.jobs, r, &self.veh[r], &route.jobs))
            .collect();
        unassigned.extend(s.unassigned.iter().map(|j| (*j, Unserved::FleetFull)));
        unassigned.sort_by_key(|u| u.0);
        Routing {
            distance: routes.iter().map(|r| r.distance).sum(),
            routes,
            unassigned,
            iterations,
            stop,
        }
    }
}

/// Why no vehicle could ever serve this job alone, if that is so: too
/// heavy for every vehicle, or out of reach of every shift within its
/// window. `None` when some vehicle could.
pub fn explain(matrix: &Matrix, job: &JobSpec, vehicles: &[VehicleSpec]) -> Option<Unserved> {
    if vehicles.iter().all(|v| v.capacity < job.demand) {
        return Some(Unserved::Capacity);
    }
    let reachable = vehicles.iter().filter(|v| v.capacity >= job.demand).any(|v| {
        let f = v.time_factor;
        let start = (v.shift_start + matrix.duration(v.start, job.location) * f).max(job.ready);
        start <= job.due && start + job.service + matrix.duration(job.location, v.end) * f <= v.shift_end
    });
    (!reachable).then_some(Unserved::TimeWindow)
}

/// The schedule of vehicle `vehicle` serving `seq` in that order: leave
/// the depot as late as the first stop allows (never before the shift),
/// wait where a window is not open yet. Says nothing about whether that
/// keeps the rules: see `route_check::check_route`.
pub fn timeline(matrix: &Matrix, jobs: &[JobSpec], vehicle: usize, v: &VehicleSpec, seq: &[usize]) -> RoutePlan {
    let travel = |a: usize, b: usize| matrix.duration(a, b) * v.time_factor;
    let depart = match seq.first().and_then(|j| jobs.get(*j)) {
        Some(first) => {
            let start = (v.shift_start + travel(v.start, first.location)).max(first.ready);
            (start - travel(v.start, first.location)).max(v.shift_start)
        }
        None => v.shift_start,
    };
    let (mut at, mut t, mut distance) = (v.start, depart, 0.0);
    let mut visits = Vec::with_capacity(seq.len());
    for &j in seq {
        let Some(job) = jobs.get(j) else { continue };
        let arrival = t + travel(at, job.location);
        let start = arrival.max(job.ready);
        distance += matrix.distance(at, job.location);
        t = start + job.service;
        at = job.location;
        visits.push(Visit {
            job: j,
            arrival,
            start,
            departure: t,
        });
    }
    let back = if seq.is_empty() { depart } else { t + travel(at, v.end) };
    if !seq.is_empty() {
        distance += matrix.distance(at, v.end);
    }
    RoutePlan {
        vehicle,
        depart,
        back,
        visits,
        distance,
    }
}
